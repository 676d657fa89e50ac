#pragma once

#include <string>
#include <string_view>

namespace hermes::daemon::builtin {

// Why a `terminal` command must be shown to the user before it runs. The command is parsed as
// bash would parse it and every command in the tree is checked, so pipes, lists, subshells,
// substitutions, here-docs and wrappers (sudo, env, sh -c, eval, xargs, ...) hide nothing.
enum class DangerClass {
  none,
  delete_outside_workspace,  // rm, find -delete, truncate, ... on a path outside the workspace
  privilege,                 // sudo, su, doas, ...
  recursive_permission,      // chmod/chown -R, setuid, permission changes outside the workspace
  raw_disk,                  // dd, fdisk, wipefs, ...
  make_filesystem,           // mkfs*
  download_to_shell,         // curl ... | sh and its relatives
  force_push,                // git push --force/--delete/+refspec
  kill_foreign,              // kill by pid, pkill, killall
  block_device_write,        // > /dev/sda, tee /dev/nvme0n1
  unparsable,                // could not be parsed, or names its command at run time
};

struct CommandVerdict {
  DangerClass danger = DangerClass::none;
  // One plain sentence for the user, naming the command, e.g.
  // "it deletes files outside the workspace (rm -rf /)". Empty when danger is none.
  std::string why;
};

// `command` is what will run as `bash -c command`; `workspace` is the absolute directory it
// starts in, which is also its HOME. A pure function: nothing is read from the system.
CommandVerdict classify_command(std::string_view command, std::string_view workspace);

// "delete_outside_workspace", "privilege", ...; "none" for DangerClass::none.
std::string_view danger_name(DangerClass danger);

}  // namespace hermes::daemon::builtin
