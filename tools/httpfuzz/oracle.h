// What an answer must look like (SPEC.md, api/README.md), and what it says was recorded.
//
// Every answer: well-formed HTTP/1.x (checked by wire.cc), never 5xx — except 501 to a request
// that sent Transfer-Encoding, api/README.md's documented refusal — JSON with an application/json
// Content-Type wherever SPEC.md promises JSON (everything but static files and /metrics), an
// {"error": string} object on every non-2xx, and the 2xx shapes of each route.
//
// Recording: a mutating route appends its command only once the request passed the api's own
// checks; the answers that prove a command was appended are listed in Classify. Everything
// else — framing errors, 401, 405, form and value errors, unknown bank accounts — must leave
// the commands log untouched, which the audit (command_audit.h) proves by type.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tools/httpfuzz/generator.h"
#include "tools/httpfuzz/wire.h"

namespace isucoin::httpfuzz {

// The command types the api appends, by name as in the log (events/codec.h).
inline const std::vector<std::string> kHttpCommandTypes = {
    "SignupRequested", "SigninRecorded", "OrderPlaced", "BuyCreditRefused", "CancelRequested",
    "ResetRequested"};

// The request line as the server's framer reads it (api/server.cc): method and path, or
// valid = false when it would refuse the line.
struct Route {
  bool valid = false;
  std::string method, path;
};
Route RouteOf(const std::string& request_bytes);

struct Verdict {
  std::vector<std::string> problems;  // empty when the answer is as it must be
  std::string recorded;               // the command type this answer proves appended, or ""
  bool matcher_rejection = false;     // a 400 the matcher wrote (CommandRejected)
};
Verdict Judge(const PlannedRequest& request, const Response& response);

// Checks that hold for any answer, attributed or not (framing leftovers, sentinels).
std::vector<std::string> GeneralProblems(const Response& response, bool transfer_encoding);

}  // namespace isucoin::httpfuzz
