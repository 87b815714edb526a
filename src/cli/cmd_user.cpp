#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "auth/auth_service.h"
#include "cli/commands.h"
#include "store/database.h"

namespace tph::cli {

namespace {

struct UserAddOptions {
  CommonOptions common;
  std::string username;
  std::string display_name;
  std::vector<std::string> roles;
  bool password_stdin = false;
  bool update = false;
};

//! Reads one line from stdin, without echo when stdin is a terminal.
std::string readPassword() {
  bool tty = isatty(STDIN_FILENO);
  termios old_state{};
  if (tty) {
    std::fprintf(stderr, "password: ");
    tcgetattr(STDIN_FILENO, &old_state);
    termios quiet = old_state;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old_state);
    std::fprintf(stderr, "\n");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Result<auth::RoleGrant> parseGrant(const std::string& text) {
  auto colon = text.find(':');
  std::string name = text.substr(0, colon);
  auto role = auth::parseRole(name);
  if (!role) return Error::invalid("role", "unknown role " + name);
  return auth::RoleGrant{*role, colon == std::string::npos ? "" : text.substr(colon + 1)};
}

int runUserAdd(const UserAddOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  auth::NewUser user;
  user.username = options.username;
  user.display_name = options.display_name.empty() ? options.username : options.display_name;
  for (const auto& text : options.roles) {
    auto grant = parseGrant(text);
    if (!grant) return fail(grant.error());
    user.grants.push_back(*grant);
  }
  const char* env_password = std::getenv("TPH_NEW_PASSWORD");
  if (options.password_stdin || !env_password) {
    user.password = readPassword();
  } else {
    user.password = env_password;
  }
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  auth::AuthService auth(**db, clock);
  auto created = auth.createUserAsSystem("cli", user, options.update);
  if (!created) return fail(created.error());
  std::printf("user %s (id %lld) has roles:", created->username.c_str(),
              static_cast<long long>(created->id));
  for (const auto& g : created->grants) {
    std::printf(" %s%s%s", std::string(auth::roleName(g.role)).c_str(),
                g.region_code.empty() ? "" : ":", g.region_code.c_str());
  }
  std::printf("\n");
  return 0;
}

}  // namespace

void addUserCommand(CLI::App& app, int& exit_code) {
  auto* user = app.add_subcommand("user", "Manage users");
  user->require_subcommand(1);
  auto options = std::make_shared<UserAddOptions>();
  auto* add = user->add_subcommand(
      "add", "Create a user with roles; the password is read from stdin or TPH_NEW_PASSWORD");
  addCommonOptions(*add, options->common);
  add->add_option("username", options->username, "a-z, 0-9, '_', '.', '-'; 3-32 characters")
      ->required();
  add->add_option("--display-name", options->display_name, "name shown to others");
  add->add_option("--role", options->roles, "ROLE or ROLE:REGION, repeatable (region_admin:440300)")
      ->required();
  add->add_flag("--password-stdin", options->password_stdin,
                "read the password from stdin even when TPH_NEW_PASSWORD is set");
  add->add_flag("--update", options->update, "replace the password and roles of an existing user");
  add->callback([options, &exit_code] { exit_code = runUserAdd(*options); });
}

}  // namespace tph::cli
