#include "api/metrics.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <sstream>

namespace isucoin::api {

namespace {
std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') { out += "\\n"; continue; }
    out.push_back(c);
  }
  return out;
}
std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}
// `inner` is a rendered label set without braces, possibly empty; `extra` one more label.
std::string WithLabel(const std::string& inner, const std::string& extra) {
  if (inner.empty()) return "{" + extra + "}";
  return "{" + inner.substr(1, inner.size() - 2) + "," + extra + "}";
}
}  // namespace

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"" + EscapeLabel(labels[i].second) + "\"";
  }
  return out + "}";
}

const std::vector<double>& MetricsRegistry::DefaultBuckets() {
  static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10, 30};
  return kBuckets;
}

MetricsRegistry::Family& MetricsRegistry::FamilyLocked(const std::string& name,
                                                       const char* type) {
  auto& f = families_[name];
  if (f.type == "untyped") f.type = type;
  return f;
}

void MetricsRegistry::Describe(const std::string& name, const std::string& type,
                               const std::string& help) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  f.type = type;
  f.help = help;
}

void MetricsRegistry::Increment(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, "counter").series[RenderLabels(labels)].value += delta;
}

void MetricsRegistry::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, "gauge").series[RenderLabels(labels)].value = value;
}

void MetricsRegistry::Observe(const std::string& name, const Labels& labels, double value) {
  const auto& bounds = DefaultBuckets();
  std::lock_guard lock(mu_);
  auto& s = FamilyLocked(name, "histogram").series[RenderLabels(labels)];
  if (s.buckets.empty()) s.buckets.assign(bounds.size(), 0);
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) {
      ++s.buckets[i];
      break;
    }
  }
  s.value += value;
  ++s.count;
}

void MetricsRegistry::RegisterCallback(
    const std::string& name, const std::string& type, const std::string& help,
    std::function<std::vector<std::pair<Labels, double>>()> read) {
  std::lock_guard lock(mu_);
  callbacks_.push_back(Callback{name, type, help, std::move(read)});
}

std::string MetricsRegistry::Render() const {
  std::vector<Callback> callbacks;
  std::ostringstream out;
  {
    std::lock_guard lock(mu_);
    callbacks = callbacks_;
    const auto& bounds = DefaultBuckets();
    for (const auto& [name, f] : families_) {
      if (!f.help.empty()) out << "# HELP " << name << " " << f.help << "\n";
      out << "# TYPE " << name << " " << f.type << "\n";
      for (const auto& [labels, s] : f.series) {
        if (f.type != "histogram") {
          out << name << labels << " " << Number(s.value) << "\n";
          continue;
        }
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < bounds.size() && i < s.buckets.size(); ++i) {
          cumulative += s.buckets[i];
          out << name << "_bucket" << WithLabel(labels, "le=\"" + Number(bounds[i]) + "\"")
              << " " << cumulative << "\n";
        }
        out << name << "_bucket" << WithLabel(labels, "le=\"+Inf\"") << " " << s.count << "\n";
        out << name << "_sum" << labels << " " << Number(s.value) << "\n";
        out << name << "_count" << labels << " " << s.count << "\n";
      }
    }
  }
  // Components register their own series of a shared family (each process wires a different
  // set: the api node its read model's lag, serve also the matcher's): one family, rendered
  // together under the first registration's HELP and TYPE.
  std::stable_sort(callbacks.begin(), callbacks.end(),
                   [](const Callback& a, const Callback& b) { return a.name < b.name; });
  for (std::size_t i = 0; i < callbacks.size(); ++i) {
    const Callback& c = callbacks[i];
    if (i == 0 || callbacks[i - 1].name != c.name) {
      out << "# HELP " << c.name << " " << c.help << "\n# TYPE " << c.name << " " << c.type << "\n";
    }
    for (const auto& [labels, value] : c.read()) {
      out << c.name << RenderLabels(labels) << " " << Number(value) << "\n";
    }
  }
  return out.str();
}

}  // namespace isucoin::api
