#include <fstream>
#include <sstream>

#include "certify/merkle.h"
#include "cli/commands.h"

namespace tph::cli {

namespace {

struct VerifyProofOptions {
  std::string proof_file;
  std::string root;
};

int runVerifyProof(const VerifyProofOptions& options) {
  std::ifstream in(options.proof_file);
  if (!in) return fail(Error::invalid("proof", "cannot read " + options.proof_file));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded()) return fail(Error::invalid("proof", "the proof is not JSON"));
  auto proof = certify::InclusionProof::fromJson(parsed);
  if (!proof) {
    return fail(Error::invalid("proof",
                               "the proof needs leaf {id, subject, methodology, "
                               "methodology_version, day, grams}, index, leaf_count and path"));
  }
  if (options.root.size() != 64 ||
      options.root.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return fail(Error::invalid("root", "the root is 64 lower-case hex digits"));
  }
  auto problem = certify::verifyInclusion(*proof, options.root);
  if (!problem.empty()) {
    std::fprintf(stderr, "proof does not verify: %s\n", problem.c_str());
    return 1;
  }
  std::printf("proof ok: reduction %lld (%lld g on %s) is leaf %lld of %lld under root %s\n",
              static_cast<long long>(proof->leaf.id), static_cast<long long>(proof->leaf.grams),
              proof->leaf.day.c_str(), static_cast<long long>(proof->index),
              static_cast<long long>(proof->leaf_count), options.root.c_str());
  return 0;
}

}  // namespace

void addVerifyProofCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<VerifyProofOptions>();
  auto* cmd = app.add_subcommand(
      "verify-proof",
      "Check a reduction's inclusion proof (JSON from /api/v1/account/reductions/{id}/proof) "
      "against a batch's published Merkle root, offline");
  cmd->add_option("--proof", options->proof_file, "the proof JSON file")->required();
  cmd->add_option("--root", options->root,
                  "the batch's Merkle root as published (serial provenance, certificate)")
      ->required();
  cmd->callback([options, &exit_code] { exit_code = runVerifyProof(*options); });
}

}  // namespace tph::cli
