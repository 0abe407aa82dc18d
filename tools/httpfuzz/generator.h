// Seeded, reproducible request generation: valid requests to every route, then mutated —
// request line, headers, cookies, framing (lengths, line ends, chunked), bodies (numbers,
// encodings, UTF-8, content types) — grouped into pipelined exchanges.
//
// Exclusions: /initialize only ever gets bodies that cannot pass (they start with a bad
// percent-escape, so ParseForm refuses them whatever follows); a valid one would reset the
// exchange by design. Framing-changing mutations (lengths that lie, missing or bare-LF line
// ends, oversize lengths) are placed last in their exchange so that every answer before them
// belongs to exactly one request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace isucoin::httpfuzz {

// What the setup created, for the templates to use.
struct Identities {
  std::vector<std::string> cookies;          // valid isucoin_session values
  std::vector<std::string> signin_bank_ids;  // registered users
  std::string password;                      // theirs
  std::vector<std::string> signup_bank_ids;  // bank accounts not registered yet
  std::vector<std::string> unknown_bank_ids; // neither
};

struct PlannedRequest {
  std::string bytes;
  std::string label;              // template + mutations, e.g. "POST /orders+number:overflow"
  bool framing_tail = false;      // changes where the next request starts
  bool merges = false;            // its head runs into the sentinel: the server's request
                                  // line is not ours, so only general checks apply
  bool transfer_encoding = false; // sends Transfer-Encoding (answered 501 by design)
  bool sentinel = false;          // the exchange's closing probe
};

struct PlannedExchange {
  std::vector<PlannedRequest> requests;  // fuzz requests, then the sentinel
};

// `count` fuzz requests (sentinels not counted), in exchanges of 1..6, from `seed` alone.
std::vector<PlannedExchange> Plan(std::uint64_t seed, std::size_t count, const Identities& ids);

// The request that ends every exchange: GET /info with Connection: close.
std::string SentinelBytes();

}  // namespace isucoin::httpfuzz
