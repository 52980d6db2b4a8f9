// `attncert check-attention`: is a user's attention output O (and lse) within the error a
// correct kernel of the declared class may make on the given Q, K, V? Per head against the
// certified truth (proofs_checks/attention_check.hpp). Exit 1 on a violation.
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

void add_check_attention_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
