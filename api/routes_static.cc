// GET / and the SPA's assets from ApiOptions::web_root, with ETag / Last-Modified and 304.
#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "api/api_context.h"
#include "api/form.h"

namespace isucoin::api {

namespace {
std::string MimeFor(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"}, {".svg", "image/svg+xml"},
      {".png", "image/png"}, {".jpg", "image/jpeg"}, {".ico", "image/x-icon"},
      {".woff2", "font/woff2"}, {".map", "application/json; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"}};
  for (const auto& [ext, type] : kTypes) {
    std::string_view e(ext);
    if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) {
      return type;
    }
  }
  return "application/octet-stream";
}

std::string HttpDate(std::time_t t) {
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}
}  // namespace

void HandleStatic(ApiContext& api, const HttpRequest& req, ReplyPtr reply) {
  const std::string& root = api.options().web_root;
  auto path = PercentDecode(req.path, false);
  // Only plain relative names below the root: no "..", no NUL, no hidden files.
  if (root.empty() || !path || path->empty() || (*path)[0] != '/' ||
      path->find('\0') != std::string::npos || path->find("/.") != std::string::npos ||
      path->find('\\') != std::string::npos) {
    return reply->Send(ErrorResponse(404, "not found"));
  }
  std::string file = root + (*path == "/" ? std::string("/index.html") : *path);
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return reply->Send(ErrorResponse(404, "not found"));
  }
  std::ostringstream etag_text;
  etag_text << '"' << std::hex << st.st_size << '-' << st.st_mtim.tv_sec << '-'
            << st.st_mtim.tv_nsec << '"';
  std::string etag = etag_text.str();
  std::string last_modified = HttpDate(st.st_mtim.tv_sec);
  bool not_modified = false;
  if (!req.if_none_match.empty()) {
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    not_modified = req.if_none_match == etag || req.if_none_match == "*";
  } else if (!req.if_modified_since.empty()) {
    std::tm tm{};
    const char* end = strptime(req.if_modified_since.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    not_modified = end != nullptr && *end == '\0' && timegm(&tm) >= st.st_mtim.tv_sec;
  }
  HttpResponse r;
  r.headers = {{"ETag", etag}, {"Last-Modified", last_modified}, {"Cache-Control", "no-cache"}};
  if (not_modified) {
    r.status = 304;
    r.content_type.clear();
    return reply->Send(std::move(r));
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  if (!in) return reply->Send(ErrorResponse(404, "not found"));
  r.status = 200;
  r.content_type = MimeFor(file);
  r.body = data.str();
  reply->Send(std::move(r));
}

}  // namespace isucoin::api
