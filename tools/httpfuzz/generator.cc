#include "tools/httpfuzz/generator.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <utility>

namespace isucoin::httpfuzz {

namespace {

using Rng = std::mt19937_64;

// A request before serialisation, so that mutations can act on its parts.
struct Draft {
  std::string label;
  std::string method, target, version = "HTTP/1.1";
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> raw_lines;  // header lines written as they are (malformed ones)
  std::vector<std::pair<std::string, std::string>> form;  // raw (already encoded) pairs
  std::optional<std::string> raw_body;                   // replaces the form when set
  // Content-Length as a function of the final body's size (mutations that come later may
  // change the body): a lie or a malformed value. Unset: the true size.
  std::function<std::string(std::size_t)> content_length;
  std::function<std::string(std::size_t)> second_content_length;  // a repeated header
  bool omit_content_length = false;
  std::string eol = "\r\n";
  bool omit_blank_line = false;
  std::string prefix;  // bytes before the request line
  bool framing_tail = false, transfer_encoding = false;

  std::string Body() const {
    if (raw_body) return *raw_body;
    std::string b;
    for (const auto& [k, v] : form) {
      if (!b.empty()) b += '&';
      b += k + "=" + v;
    }
    return b;
  }
  void SetHeader(const std::string& name, const std::string& value) {
    for (auto& [n, v] : headers) {
      if (n == name) {
        v = value;
        return;
      }
    }
    headers.emplace_back(name, value);
  }
  void DropHeader(const std::string& name) {
    std::erase_if(headers, [&](const auto& h) { return h.first == name; });
  }
  std::string Serialize() const {
    std::string body = Body();
    // The /initialize exclusion holds whatever the mutations did: a bad escape first makes
    // ParseForm refuse the body (and any prefix a lying Content-Length keeps is refused too).
    if (target.substr(0, target.find('?')) == "/initialize" && !transfer_encoding) body = "%zz&" + body;
    std::string out = prefix + method + " " + target + " " + version + eol;
    for (const auto& [n, v] : headers) out += n + ": " + v + eol;
    for (const auto& line : raw_lines) out += line + eol;
    if (!omit_content_length && (content_length || !body.empty() || method == "POST")) {
      out += "Content-Length: " + (content_length ? content_length(body.size()) : std::to_string(body.size())) + eol;
    }
    if (second_content_length) out += "Content-Length: " + second_content_length(body.size()) + eol;
    if (!omit_blank_line) out += eol;
    return out + body;
  }
};

std::size_t Pick(Rng& rng, std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
bool Chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
template <typename T>
const T& OneOf(Rng& rng, const std::vector<T>& v) { return v[Pick(rng, v.size())]; }
std::int64_t Between(Rng& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

std::string RandomBytes(Rng& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(Pick(rng, 256));
  return s;
}

std::string Encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Numbers as a client might get them wrong.
std::string OddNumber(Rng& rng) {
  static const std::vector<std::string> kOdd = {
      "0", "-1", "-0", "1000000001", "9223372036854775807", "9223372036854775808",
      "18446744073709551616", "99999999999999999999999999999999", "1e3", "1.5", "0x10", "+5",
      "%2B5", "%205", "5%20", "１２", "%EF%BC%91", "00000000000000000000000000001", "",
      "NaN", "Infinity", "-9223372036854775808", "5abc", "%00", "1000000000", "1"};
  return OneOf(rng, kOdd);
}

// Values that are not UTF-8, or are UTF-8 a naive decoder gets wrong.
std::string OddText(Rng& rng) {
  static const std::vector<std::string> kOdd = {
      "%FF", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "%E3%81", "%80", "\xff\xfe", "%00",
      "%E3%81%82%E3%82%8A", "%F0%9F%98%80", "a%zz", "%", "%4", "+++", "%25", "%26%3D",
      "\xe3\x81\x82", "<script>", "'%22;--", "a\tb", "%0D%0A"};
  return OneOf(rng, kOdd);
}

// ---- templates ----------------------------------------------------------------------------

Draft Base(const std::string& method, const std::string& target, const std::string& label) {
  Draft d;
  d.method = method;
  d.target = target;
  d.label = label;
  d.headers = {{"Host", "127.0.0.1"}};
  return d;
}

void WithForm(Draft& d, std::vector<std::pair<std::string, std::string>> form) {
  d.form = std::move(form);
  d.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
}

void WithCookie(Draft& d, Rng& rng, const Identities& ids) {
  if (!ids.cookies.empty()) d.headers.emplace_back("Cookie", "isucoin_session=" + OneOf(rng, ids.cookies));
}

Draft Template(Rng& rng, const Identities& ids) {
  const auto roll = Pick(rng, 100);
  if (roll < 8) {
    Draft d = Base("POST", "/signup", "signup");
    std::string bank = Chance(rng, 0.5) && !ids.signup_bank_ids.empty() ? OneOf(rng, ids.signup_bank_ids)
                       : Chance(rng, 0.5) && !ids.signin_bank_ids.empty() ? OneOf(rng, ids.signin_bank_ids)
                                                                          : OneOf(rng, ids.unknown_bank_ids);
    WithForm(d, {{"name", Chance(rng, 0.3) ? "%E6%A4%85%E5%AD%90" : "fuzz" + std::to_string(Pick(rng, 1000))},
                 {"bank_id", Encode(bank)},
                 {"password", "pw" + std::to_string(Pick(rng, 10))}});
    return d;
  }
  if (roll < 20) {
    Draft d = Base("POST", "/signin", "signin");
    bool known = Chance(rng, 0.6) && !ids.signin_bank_ids.empty();
    WithForm(d, {{"bank_id", Encode(known ? OneOf(rng, ids.signin_bank_ids) : OneOf(rng, ids.unknown_bank_ids))},
                 {"password", known && Chance(rng, 0.5) ? Encode(ids.password) : "wrong"}});
    return d;
  }
  if (roll < 23) {
    Draft d = Base("POST", "/signout", "signout");
    WithCookie(d, rng, ids);
    return d;
  }
  if (roll < 48) {
    Draft d = Base("POST", "/orders", "post_order");
    WithCookie(d, rng, ids);
    WithForm(d, {{"type", Chance(rng, 0.5) ? "buy" : "sell"},
                 {"amount", std::to_string(Between(rng, 1, 20))},
                 {"price", std::to_string(Between(rng, 100, 20000))}});
    return d;
  }
  if (roll < 58) {
    Draft d = Base("DELETE", "/order/" + std::to_string(Between(rng, 1, 3000)), "delete_order");
    WithCookie(d, rng, ids);
    return d;
  }
  if (roll < 66) {
    Draft d = Base("GET", "/orders", "get_orders");
    WithCookie(d, rng, ids);
    return d;
  }
  if (roll < 81) {
    Draft d = Base("GET", "/info?cursor=" + std::to_string(Between(rng, 0, 200)), "info");
    if (Chance(rng, 0.5)) WithCookie(d, rng, ids);
    return d;
  }
  if (roll < 85) {
    static const std::vector<std::string> kPaths = {
        "/", "/index.html", "/favicon.ico", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
        "/.env", "/assets/../../../etc/shadow", "/%00", "/nonexistent.js", "//etc/passwd",
        "/..%5c..%5cetc%5cpasswd"};
    Draft d = Base("GET", OneOf(rng, kPaths), "static");
    if (Chance(rng, 0.3)) d.headers.emplace_back("If-None-Match", "\"x\"");
    if (Chance(rng, 0.3)) d.headers.emplace_back("If-Modified-Since", "Sun, 22 Nov 2099 00:00:00 GMT");
    return d;
  }
  if (roll < 87) return Base("GET", "/metrics", "metrics");
  if (roll < 90) {
    // Never valid (exclusion): Serialize puts a bad escape first, so ParseForm refuses it.
    Draft d = Base("POST", "/initialize", "initialize_invalid");
    WithForm(d, {{"bank_endpoint", "http%3A%2F%2F127.0.0.1%3A1"}, {"bank_appid", "x"},
                 {"log_endpoint", "http%3A%2F%2F127.0.0.1%3A1"}, {"log_appid", "x"}});
    return d;
  }
  if (roll < 95) {
    static const std::vector<std::string> kPaths = {"/admin", "/orders/1", "/order", "/info/",
                                                    "/ORDERS", "/signin/", "/api/orders"};
    static const std::vector<std::string> kMethods = {"GET", "POST", "DELETE", "PUT", "PATCH"};
    Draft d = Base(OneOf(rng, kMethods), OneOf(rng, kPaths), "unknown_route");
    WithCookie(d, rng, ids);
    return d;
  }
  Draft d = Base("POST", "/orders", "garbage");
  d.raw_body = RandomBytes(rng, Pick(rng, 200));
  return d;
}

// ---- mutations ----------------------------------------------------------------------------

using Mutation = std::function<void(Draft&, Rng&, const Identities&)>;

struct NamedMutation {
  const char* name;
  Mutation apply;
};

void MutateFormField(Draft& d, Rng& rng, const std::function<void(std::string&, std::string&)>& f) {
  if (d.form.empty() || d.raw_body) {
    d.form = {{"type", "buy"}, {"amount", "1"}, {"price", "1"}};
    d.raw_body.reset();
  }
  auto& [k, v] = d.form[Pick(rng, d.form.size())];
  f(k, v);
}

std::string MutateBytes(std::string s, Rng& rng) {
  int edits = static_cast<int>(1 + Pick(rng, 4));
  for (int i = 0; i < edits; ++i) {
    std::size_t at = s.empty() ? 0 : Pick(rng, s.size() + 1);
    switch (Pick(rng, 4)) {
      case 0: if (at < s.size()) s[at] = static_cast<char>(s[at] ^ (1 << Pick(rng, 8))); break;
      case 1: s.insert(at, 1, static_cast<char>(Pick(rng, 256))); break;
      case 2: if (at < s.size()) s.erase(at, 1); break;
      default: s.insert(at, s.substr(at, Pick(rng, 16))); break;
    }
  }
  return s;
}

const std::vector<NamedMutation>& Mutations() {
  static const std::vector<NamedMutation> kAll = {
      // -- bodies
      {"drop_field", [](Draft& d, Rng& rng, const Identities&) {
         if (!d.form.empty()) d.form.erase(d.form.begin() + static_cast<long>(Pick(rng, d.form.size())));
       }},
      {"repeat_field", [](Draft& d, Rng& rng, const Identities&) {
         if (!d.form.empty()) d.form.push_back(d.form[Pick(rng, d.form.size())]);
       }},
      {"empty_value", [](Draft& d, Rng& rng, const Identities&) {
         MutateFormField(d, rng, [](std::string&, std::string& v) { v.clear(); });
       }},
      {"odd_number", [](Draft& d, Rng& rng, const Identities&) {
         MutateFormField(d, rng, [&](std::string&, std::string& v) { v = OddNumber(rng); });
       }},
      {"odd_text", [](Draft& d, Rng& rng, const Identities&) {
         MutateFormField(d, rng, [&](std::string& k, std::string& v) {
           (Chance(rng, 0.2) ? k : v) += OddText(rng);
         });
       }},
      {"long_value", [](Draft& d, Rng& rng, const Identities&) {
         MutateFormField(d, rng, [&](std::string&, std::string& v) { v.append(Pick(rng, 30000), 'x'); });
       }},
      {"odd_type", [](Draft& d, Rng& rng, const Identities&) {
         static const std::vector<std::string> kTypes = {"BUY", "Sell", "buy ", "%62uy", "both", "", "buy%00"};
         d.form.emplace_back("type", OneOf(rng, kTypes));
         std::erase_if(d.form, [&](const auto& f) { return f.first == "type" && &f != &d.form.back(); });
       }},
      {"extra_fields", [](Draft& d, Rng& rng, const Identities&) {
         for (std::size_t i = Pick(rng, 50); i > 0; --i) d.form.emplace_back("f" + std::to_string(i), "v");
       }},
      {"many_ampersands", [](Draft& d, Rng&, const Identities&) { d.form.emplace_back("&&&&", ""); }},
      {"byte_flip_body", [](Draft& d, Rng& rng, const Identities&) { d.raw_body = MutateBytes(d.Body(), rng); }},
      {"random_body", [](Draft& d, Rng& rng, const Identities&) { d.raw_body = RandomBytes(rng, Pick(rng, 512)); }},
      {"json_body", [](Draft& d, Rng&, const Identities&) {
         d.raw_body = R"({"type":"buy","amount":1,"price":100,"bank_id":"isucon-001","password":"password"})";
         d.SetHeader("Content-Type", "application/json");
       }},
      {"multipart_body", [](Draft& d, Rng&, const Identities&) {
         d.raw_body = "--b\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nbuy\r\n--b--\r\n";
         d.SetHeader("Content-Type", "multipart/form-data; boundary=b");
       }},
      {"wrong_content_type", [](Draft& d, Rng& rng, const Identities&) {
         static const std::vector<std::string> kTypes = {"text/plain", "application/json", "", "\xff",
                                                         "application/x-www-form-urlencoded; charset=shift_jis"};
         d.SetHeader("Content-Type", OneOf(rng, kTypes));
       }},
      // -- cookies
      {"no_cookie", [](Draft& d, Rng&, const Identities&) { d.DropHeader("Cookie"); }},
      {"bad_cookie", [](Draft& d, Rng& rng, const Identities& ids) {
         std::string good = ids.cookies.empty() ? "1.2.abc" : OneOf(rng, ids.cookies);
         std::vector<std::string> bad = {
             "isucoin_session=" + good.substr(0, good.size() - 1),
             "isucoin_session=" + good + "0",
             "isucoin_session=" + std::string(good).replace(good.size() - 1, 1, "0"),
             "isucoin_session=1" + good,
             "isucoin_session=\"" + good + "\"",
             "isucoin_session=garbage; isucoin_session=" + good,
             "isucoin_session=" + good + "; isucoin_session=garbage",
             "isucoin_session=1.1.0000000000000000000000000000000000000000000000000000000000000000",
             "isucoin_session=99999999999999999999.99999999999999999999.ff",
             "isucoin_session=-1.9999999999999999.ff", "isucoin_session=", "isucoin_session",
             "isucoin_session=....", "=; ;;", std::string("isucoin_session=\xff\xfe"),
             "isucoin_session=" + std::string(6000, 'a'), "ISUCOIN_SESSION=" + good,
             " isucoin_session = " + good + " "};
         d.DropHeader("Cookie");
         d.headers.emplace_back("Cookie", OneOf(rng, bad));
       }},
      // -- headers
      {"junk_headers", [](Draft& d, Rng& rng, const Identities&) {
         for (std::size_t i = 1 + Pick(rng, 40); i > 0; --i) d.headers.emplace_back("X-Junk-" + std::to_string(i), RandomBytes(rng, Pick(rng, 8)) + "v");
         // Header values with CR or LF inside would end the line: keep them out here.
         for (auto& [n, v] : d.headers) std::erase_if(v, [](char c) { return c == '\r' || c == '\n'; });
       }},
      {"long_header", [](Draft& d, Rng& rng, const Identities&) { d.headers.emplace_back("X-Long", std::string(Pick(rng, 70000), 'h')); }},
      {"malformed_header", [](Draft& d, Rng& rng, const Identities&) {
         static const std::vector<std::string> kBad = {
             "NoColonHere", ": empty name", " Folded: continuation", "Bad Name: x",
             std::string("X-Nul: a\0b", 10), "X-CR: a\rb", "\xff\xfe: x", "X-Bare-LF: a\nb"};
         d.raw_lines.push_back(OneOf(rng, kBad));
       }},
      {"content_length_variant", [](Draft& d, Rng& rng, const Identities&) {
         static const std::vector<std::pair<std::string, std::string>> kForms = {
             {"+", ""}, {" ", " "}, {"", ", SAME"}, {"0x", ""}, {"-", ""}, {"00", ""}, {"", "abc"},
             {"1000000000000000000", ""}};
         auto [before, after] = OneOf(rng, kForms);
         d.content_length = [before, after](std::size_t n) {
           std::string size = std::to_string(n);
           return before + size + (after == ", SAME" ? ", " + size : after);
         };
       }},
      {"duplicate_content_length", [](Draft& d, Rng& rng, const Identities&) {
         bool same = Chance(rng, 0.5);
         d.second_content_length = [same](std::size_t n) { return std::to_string(same ? n : n + 1); };
       }},
      {"chunked", [](Draft& d, Rng&, const Identities&) {
         std::string body = d.Body();
         char size[32];
         std::snprintf(size, sizeof size, "%zx", body.size());
         d.raw_body = std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
         d.omit_content_length = true;
         d.headers.emplace_back("Transfer-Encoding", "chunked");
         d.transfer_encoding = true;
       }},
      {"expect_continue", [](Draft& d, Rng&, const Identities&) { d.headers.emplace_back("Expect", "100-continue"); }},
      {"http10", [](Draft& d, Rng& rng, const Identities&) {
         d.version = "HTTP/1.0";
         if (Chance(rng, 0.5)) d.headers.emplace_back("Connection", "keep-alive");
       }},
      {"connection_header", [](Draft& d, Rng& rng, const Identities&) {
         static const std::vector<std::string> kValues = {"close", "keep-alive", "Keep-Alive, Upgrade", "CLOSE", "upgrade", ""};
         d.headers.emplace_back("Connection", OneOf(rng, kValues));
       }},
      {"no_host", [](Draft& d, Rng&, const Identities&) { d.DropHeader("Host"); }},
      {"header_case", [](Draft& d, Rng&, const Identities&) {
         for (auto& [n, v] : d.headers) {
           for (auto& c : n) c = static_cast<char>(std::islower(static_cast<unsigned char>(c)) ? std::toupper(c) : std::tolower(c));
         }
       }},
      // -- request line
      {"method", [](Draft& d, Rng& rng, const Identities&) {
         static const std::vector<std::string> kMethods = {"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS",
                                                           "TRACE", "CONNECT", "get", "post", "GETT", "\xff", "G\tET",
                                                           std::string(300, 'M')};
         d.method = OneOf(rng, kMethods);
       }},
      {"target", [](Draft& d, Rng& rng, const Identities&) {
         std::vector<std::string> v = {d.target + "?", d.target + "?a=%zz", d.target + "#frag", d.target + "/",
                                       "/" + d.target, "*", "http://127.0.0.1" + d.target, d.target.substr(1),
                                       d.target + "%00", d.target + "?cursor=1&cursor=2", "/%6frders",
                                       d.target + " extra", d.target + "/" + std::string(66000, 'p')};
         d.target = OneOf(rng, v);
       }},
      {"version", [](Draft& d, Rng& rng, const Identities&) {
         static const std::vector<std::string> kVersions = {"HTTP/1.2", "HTTP/2.0", "HTTP/1", "http/1.1", "", "HTTP/1.1 ", "HTTP/1.1\t", "HTTP/0.9"};
         d.version = OneOf(rng, kVersions);
       }},
      {"leading_crlf", [](Draft& d, Rng& rng, const Identities&) { d.prefix = Chance(rng, 0.8) ? "\r\n\r\n" : "\n"; }},
      // -- framing that moves the next request's start: always last in the exchange
      {"short_length", [](Draft& d, Rng& rng, const Identities&) {
         std::uint64_t r = rng();
         d.content_length = [r](std::size_t n) { return std::to_string(n == 0 ? 0 : r % n); };
         d.framing_tail = true;
       }},
      {"long_length", [](Draft& d, Rng& rng, const Identities&) {
         // At most the sentinel's length minus its final blank line and a byte, so the
         // sentinel's rest still ends the exchange (a longer lie would leave the server rightly
         // waiting for the body).
         std::uint64_t r = rng();
         d.content_length = [r](std::size_t n) { return std::to_string(n + 1 + r % (SentinelBytes().size() - 6)); };
         d.framing_tail = true;
       }},
      {"oversize_length", [](Draft& d, Rng& rng, const Identities&) {
         static const std::vector<std::string> kHuge = {"65537", "1000000", "999999999999999999", "100000000000"};
         std::string huge = OneOf(rng, kHuge);
         d.content_length = [huge](std::size_t) { return huge; };
         d.raw_body = "";
         d.framing_tail = true;
       }},
      {"bare_lf", [](Draft& d, Rng&, const Identities&) {
         d.eol = "\n";
         d.framing_tail = true;
       }},
      {"no_blank_line", [](Draft& d, Rng&, const Identities&) {
         d.omit_blank_line = true;
         d.framing_tail = true;
       }},
  };
  return kAll;
}

// Requests whose framing merges them with the sentinel cannot be attributed an answer; they
// are made harmless (no session, no body) so that whatever the server makes of them records
// nothing, which the command-log audit then proves.
void Defang(Draft& d) {
  if (d.eol == "\n" || d.omit_blank_line) {
    d.DropHeader("Cookie");
    d.form.clear();
    d.raw_body = "";
    d.content_length = nullptr;
    d.second_content_length = nullptr;
    d.omit_content_length = true;
  }
}

}  // namespace

std::string SentinelBytes() {
  return "GET /info?cursor=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

std::vector<PlannedExchange> Plan(std::uint64_t seed, std::size_t count, const Identities& ids) {
  Rng rng(seed);
  std::vector<PlannedExchange> plan;
  const auto& mutations = Mutations();
  std::size_t planned = 0;
  while (planned < count) {
    PlannedExchange ex;
    std::size_t size = std::min<std::size_t>(count - planned, Chance(rng, 0.5) ? 1 : 1 + Pick(rng, 6));
    for (std::size_t i = 0; i < size; ++i) {
      Draft d = Template(rng, ids);
      std::size_t n = Chance(rng, 0.15) ? 0 : 1 + Pick(rng, Chance(rng, 0.7) ? 1 : 3);
      for (std::size_t m = 0; m < n; ++m) {
        const auto& mutation = mutations[Pick(rng, mutations.size())];
        Draft before = d;
        mutation.apply(d, rng, ids);
        // Only the exchange's last request may move framing.
        if (d.framing_tail && i + 1 < size) {
          d = before;
          continue;
        }
        d.label += std::string("+") + mutation.name;
      }
      Defang(d);
      PlannedRequest r;
      r.bytes = d.Serialize();
      r.label = d.label;
      r.framing_tail = d.framing_tail;
      r.merges = d.eol == "\n" || d.omit_blank_line;
      r.transfer_encoding = d.transfer_encoding;
      ex.requests.push_back(std::move(r));
    }
    PlannedRequest sentinel;
    sentinel.bytes = SentinelBytes();
    sentinel.label = "sentinel";
    sentinel.sentinel = true;
    ex.requests.push_back(std::move(sentinel));
    planned += size;
    plan.push_back(std::move(ex));
  }
  return plan;
}

}  // namespace isucoin::httpfuzz
