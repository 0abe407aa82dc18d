// devbroker: a librdkafka mock cluster that outlives any one test process.
//
//   devbroker --address-file PATH [--brokers N] [--prefix P]... [--topic NAME[:PARTITIONS]]...
//
// Prints and writes the bootstrap address (the port changes at every start), then runs until
// SIGTERM or SIGINT. Topics must be created here: the mock has no CreateTopics, and any
// metadata request naming a missing topic creates it with 4 partitions.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <pthread.h>
#include <unistd.h>

namespace {

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s --address-file PATH [--brokers N] [--prefix P]... "
               "[--topic NAME[:PARTITIONS]]...\n"
               "  --prefix P   creates P.commands, P.events and P.matcher (the matcher lease), 1 partition each\n"
               "  --topic T    creates T (1 partition unless :PARTITIONS is given)\n",
               argv0);
  return 2;
}

// Written beside the target and renamed over it, so a poller never reads half an address.
bool WriteAddressFile(const std::string& path, const std::string& address) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << address << "\n";
    out.flush();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address_file;
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (arg == "--help" || arg == "-h") {
      Usage(argv[0]);
      return 0;
    } else if (arg == "--address-file" && (v = value())) {
      address_file = v;
    } else if (arg == "--brokers" && (v = value())) {
      brokers = std::atoi(v);
    } else if (arg == "--prefix" && (v = value())) {
      topics.emplace_back(std::string(v) + ".commands", 1);
      topics.emplace_back(std::string(v) + ".events", 1);
      // The matcher's lease: a consumer group over this never-written topic elects the
      // active matcher (app/matcher_command.cc).
      topics.emplace_back(std::string(v) + ".matcher", 1);
    } else if (arg == "--topic" && (v = value())) {
      std::string t = v;
      int partitions = 1;
      if (auto colon = t.rfind(':'); colon != std::string::npos) {
        partitions = std::atoi(t.c_str() + colon + 1);
        t.resize(colon);
      }
      if (t.empty() || partitions < 1) return Usage(argv[0]);
      topics.emplace_back(t, partitions);
    } else {
      return Usage(argv[0]);
    }
  }
  if (address_file.empty() || brokers < 1) return Usage(argv[0]);

  // Blocked before librdkafka starts its threads, so they inherit the mask and sigwait()
  // below is the only place the signals land.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "devbroker", err, sizeof err);
  // This handle only hosts the cluster; its "no bootstrap.servers" notice is noise.
  rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "devbroker: cannot create librdkafka handle: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "devbroker: cannot start the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  int rc = 0;
  for (const auto& [name, partitions] : topics) {
    rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, brokers < 3 ? brokers : 3);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "devbroker: cannot create topic %s: %s\n", name.c_str(),
                   rd_kafka_err2str(e));
      rc = 1;
    }
  }
  const std::string address = rd_kafka_mock_cluster_bootstraps(cluster);
  if (rc == 0 && !WriteAddressFile(address_file, address)) {
    std::fprintf(stderr, "devbroker: cannot write %s: %s\n", address_file.c_str(),
                 std::strerror(errno));
    rc = 1;
  }
  if (rc == 0) {
    std::printf("devbroker: %d broker(s) at %s (address in %s)\n", brokers, address.c_str(),
                address_file.c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    std::printf("devbroker: signal %d, stopping\n", sig);
    std::remove(address_file.c_str());
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return rc;
}
