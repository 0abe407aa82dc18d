// The isucoin binary's subcommands. Each lives in its own file app/<name>_command.cc and is
// listed once in main.cc's table.
#pragma once

namespace isucoin::app {

// Every subcommand gets the arguments after its name and returns the process exit code.
using Subcommand = int (*)(int argc, char** argv);

int MatchCommand(int argc, char** argv);
int LogCommand(int argc, char** argv);
int MatcherCommand(int argc, char** argv);
int SettleCommand(int argc, char** argv);
int ShipCommand(int argc, char** argv);
int ServeCommand(int argc, char** argv);
int ApiCommand(int argc, char** argv);
int ImportCommand(int argc, char** argv);
int ReplayCommand(int argc, char** argv);
int AuditCommand(int argc, char** argv);
int SnapshotCommand(int argc, char** argv);
int ProjectCommand(int argc, char** argv);

}  // namespace isucoin::app
