#pragma once

namespace hermes {

// Exit codes shared by the daemon, the CLI and the unit file (see the contract).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;          // unexpected fatal error, or a step that failed
inline constexpr int kExitUsage = 2;            // the CLI was called wrongly (unknown verb, flag)
inline constexpr int kExitNotActive = 3;        // `hermes gateway status`: unit not active
inline constexpr int kExitNotInstalled = 4;     // `hermes gateway status`: no unit
inline constexpr int kExitPlannedRestart = 75;  // SIGUSR1 drain done; systemd restarts us
inline constexpr int kExitConfig = 78;          // invalid config or refused start (EX_CONFIG)
inline constexpr int kExitCommandNotRun = 127;  // a helper program (systemctl) could not be run

}  // namespace hermes
