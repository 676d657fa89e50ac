#include "cli/unit_template.hpp"

#include "cli/unit_template_text.hpp"

namespace hermes::cli {

std::string_view unit_template() {
  return kUnitTemplateText;
}

std::string render_unit(const std::filesystem::path& daemon, const std::filesystem::path& home,
                        Scope scope) {
  std::string unit(unit_template());
  auto replace = [&](std::string_view from, const std::string& to) {
    for (auto at = unit.find(from); at != std::string::npos; at = unit.find(from, at + to.size())) {
      unit.replace(at, from.size(), to);
    }
  };
  replace("@HERMES_GATEWAY@", daemon.string());
  replace("@HERMES_HOME@", home.string());
  replace("@WANTED_BY@", scope == Scope::user ? "default.target" : "multi-user.target");
  return unit;
}

}  // namespace hermes::cli
