// The worked example of docs/verifiability.md, run as the document tells an outside auditor to run
// it: the fenced blocks marked `example-…` are read from the document, checked with the real
// `tanpuhui verify-proof` and `tanpuhui audit verify --export`, altered by one byte to see them
// refused, and recomputed with the document's Python snippets when python3 is on the machine.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_heads.h"
#include "certify/certify_service.h"
#include "certify/merkle.h"
#include "cli_runner.h"
#include "registry/serial.h"

namespace tph {
namespace {

using nlohmann::json;
using testing::runCli;

//! The fenced blocks of docs/verifiability.md whose info string is "LANG example-NAME", by NAME.
std::map<std::string, std::string> exampleBlocks() {
  std::ifstream in(TPH_SOURCE_DIR "/docs/verifiability.md");
  EXPECT_TRUE(in) << "docs/verifiability.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  std::map<std::string, std::string> blocks;
  std::size_t pos = 0;
  while ((pos = doc.find("```", pos)) != std::string::npos) {
    std::size_t line_end = doc.find('\n', pos);
    if (line_end == std::string::npos) break;
    std::string info = doc.substr(pos + 3, line_end - pos - 3);
    std::size_t close = doc.find("\n```", line_end);
    if (close == std::string::npos) break;
    auto space = info.find(' ');
    if (space != std::string::npos && info.compare(space + 1, 8, "example-") == 0)
      blocks[info.substr(space + 1)] = doc.substr(line_end + 1, close - line_end - 1) + "\n";
    pos = close + 4;
  }
  return blocks;
}

//! A scratch directory, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tph-verifiability-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  //! Writes `content` to NAME in the directory and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    auto file = path_ / name;
    std::ofstream out(file, std::ios::trunc);
    out << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

//! Runs a shell command with stdin from /dev/null, appends its output to *output, returns its exit
//! code (-1 when it did not exit normally).
int runShell(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1 </dev/null").c_str(), "r");
  if (!pipe) return -1;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) output->append(buffer);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool haveCommand(const std::string& check) {
  std::string ignored;
  return runShell(check, &ignored) == 0;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class VerifiabilityDoc : public ::testing::Test {
 protected:
  VerifiabilityDoc() : blocks_(exampleBlocks()) {
    for (const char* name :
         {"example-provenance", "example-proof", "example-root", "example-verify-proof",
          "example-public-key", "example-export", "example-verify-chain", "example-verify-heads"}) {
      EXPECT_TRUE(blocks_.count(name)) << "docs/verifiability.md has no block " << name;
    }
    root_ = trimmed(blocks_["example-root"]);
    proof_ = json::parse(blocks_["example-proof"], nullptr, false);
    export_ = json::parse(blocks_["example-export"], nullptr, false);
    provenance_ = json::parse(blocks_["example-provenance"], nullptr, false);
    auto key = json::parse(blocks_["example-public-key"], nullptr, false);
    EXPECT_FALSE(proof_.is_discarded() || export_.is_discarded() || provenance_.is_discarded() ||
                 key.is_discarded())
        << "an example block is not JSON";
    if (!key.is_discarded()) public_key_ = key.value("public_key", "");
  }

  //! Exit code of `tanpuhui verify-proof` on `proof` against the documented root.
  int verifyProofCli(const json& proof, std::string* out) {
    auto file = dir_.write("proof.json", proof.dump(1));
    return runCli("verify-proof --proof '" + file + "' --root " + root_, out);
  }
  int verifyExportCli(const json& exported, const std::string& key, std::string* out) {
    auto file = dir_.write("export.json", exported.dump(1));
    return runCli("audit verify --export '" + file + "' --public-key " + key, out);
  }

  std::map<std::string, std::string> blocks_;
  std::string root_, public_key_;
  json proof_, export_, provenance_;
  ScratchDir dir_;
};

TEST_F(VerifiabilityDoc, TheProofVerifiesWithTheToolUnderThePublishedRoot) {
  ASSERT_EQ(root_.size(), 64U);
  std::string out;
  ASSERT_EQ(runCli("verify-proof --proof '" + dir_.write("proof.json", blocks_["example-proof"]) +
                       "' --root " + root_,
                   &out),
            0)
      << out;
  EXPECT_NE(out.find("proof ok: reduction 4105 (480000 g on 2026-03-12) is leaf 2 of 5"),
            std::string::npos)
      << out;
  // The root the auditor is told to trust is the serial's, and the one the batch was issued with.
  EXPECT_EQ(provenance_["merkle_root"], root_);
  bool issued_with_root = false;
  for (const auto& e : export_["events"]) {
    if (e["action"] == "certify.batch.issue" && e.contains("payload"))
      issued_with_root = e["payload"]["merkle_root"] == root_;
  }
  EXPECT_TRUE(issued_with_root) << "the export's certify.batch.issue does not carry the root";
}

TEST_F(VerifiabilityDoc, TheToolRefusesTheProofWithOneByteChanged) {
  std::string out;
  auto grams = proof_;
  grams["leaf"]["grams"] = 480001;
  EXPECT_EQ(verifyProofCli(grams, &out), 1) << out;
  EXPECT_NE(out.find("proof does not verify"), std::string::npos) << out;

  auto path_hash = proof_;
  std::string h = path_hash["path"][1]["hash"];
  h[10] = h[10] == '0' ? '1' : '0';
  path_hash["path"][1]["hash"] = h;
  out.clear();
  EXPECT_EQ(verifyProofCli(path_hash, &out), 1) << out;

  auto side = proof_;
  side["path"][0]["side"] = "left";
  out.clear();
  EXPECT_EQ(verifyProofCli(side, &out), 1) << out;
  EXPECT_NE(out.find("wrong side"), std::string::npos) << out;

  // Another root: one digit of the published root changed.
  std::string other_root = root_;
  other_root[63] = other_root[63] == 'a' ? 'b' : 'a';
  out.clear();
  EXPECT_EQ(runCli("verify-proof --proof '" + dir_.write("proof.json", blocks_["example-proof"]) +
                       "' --root " + other_root,
                   &out),
            1)
      << out;

  // Every single character of the leaf, the index and the path matters: change each one in turn.
  auto flat = proof_.flatten();
  int mutations = 0;
  for (const auto& [pointer, value] : flat.items()) {
    bool bound =
        pointer.rfind("/leaf/", 0) == 0 || pointer.rfind("/path/", 0) == 0 || pointer == "/index";
    if (!bound) continue;  // batch_no and root are informative; leaf_count is compared below
    std::vector<json> variants;
    if (value.is_string()) {
      std::string s = value;
      for (std::size_t i = 0; i < s.size(); ++i) {
        std::string v = s;
        v[i] = v[i] == '0' ? '1' : '0';
        variants.emplace_back(v);
      }
    } else {
      variants.emplace_back(value.get<std::int64_t>() + 1);
      variants.emplace_back(value.get<std::int64_t>() - 1);
    }
    for (const auto& v : variants) {
      auto changed = flat;
      changed[pointer] = v;
      auto proof = certify::InclusionProof::fromJson(changed.unflatten());
      if (!proof) continue;  // no longer a proof at all
      EXPECT_NE(certify::verifyInclusion(*proof, root_), "") << pointer << " = " << v.dump();
      ++mutations;
    }
  }
  EXPECT_GT(mutations, 250);
  // As the document warns, the root does not bind leaf_count on its own: the same path fits 5 to
  // 8 leaves, which is why the auditor compares leaf_count with the serial's merkle_leaves.
  auto wider = certify::InclusionProof::fromJson(proof_);
  ASSERT_TRUE(wider);
  wider->leaf_count = 8;
  EXPECT_EQ(certify::verifyInclusion(*wider, root_), "");
}

TEST_F(VerifiabilityDoc, TheSerialsProvenanceAddsUpAndMatchesTheProofAndTheExport) {
  const auto& p = provenance_;
  auto serial = registry::parseSerial(p["serial"].get<std::string>());
  ASSERT_TRUE(serial);
  EXPECT_EQ(serial->batch_no, p["batch"]["batch_no"]);
  EXPECT_EQ(serial->batch_no, proof_["batch_no"]);
  EXPECT_EQ(serial->region, p["batch"]["region"]);
  EXPECT_EQ(serial->methodology, p["batch"]["methodology"]);
  EXPECT_EQ(serial->methodology, proof_["leaf"]["methodology"]);
  EXPECT_EQ(std::to_string(serial->vintage_year),
            p["batch"]["vintage_from"].get<std::string>().substr(0, 4));

  std::int64_t grams = 0, records = 0, region_grams = 0, region_records = 0;
  for (const auto& t : p["totals_by_month"]) {
    grams += t["grams"].get<std::int64_t>();
    records += t["records"].get<std::int64_t>();
  }
  for (const auto& t : p["totals_by_region"]) {
    region_grams += t["grams"].get<std::int64_t>();
    region_records += t["records"].get<std::int64_t>();
  }
  EXPECT_EQ(grams, p["grams"]);
  EXPECT_EQ(region_grams, p["grams"]);
  EXPECT_EQ(records, p["records"]);
  EXPECT_EQ(region_records, p["records"]);
  EXPECT_EQ(p["merkle_leaves"], p["records"]);
  EXPECT_EQ(proof_["leaf_count"], p["merkle_leaves"]);
  EXPECT_LE(p["subjects"].get<std::int64_t>(), records);
  EXPECT_NE(
      p["verifier"]["decision"].get<std::string>().find("approved " + std::to_string(grams) + " g"),
      std::string::npos);

  // The units follow from the grams by the issuance arithmetic of docs/certification.md.
  const json* issue = nullptr;
  for (const auto& e : export_["events"])
    if (e["action"] == "certify.batch.issue") issue = &e["payload"];
  ASSERT_NE(issue, nullptr);
  auto sums = certify::issueArithmetic(Grams((*issue)["carry_in_grams"].get<std::int64_t>()),
                                       Grams(grams), true, (*issue)["buffer_share_bp"].get<int>());
  EXPECT_EQ(sums.units.value(), p["batch"]["units_issued"]);
  EXPECT_EQ(sums.units.value(), (*issue)["units"]);
  EXPECT_EQ(sums.buffer_units.value(), (*issue)["buffer_units"]);
  EXPECT_EQ(sums.carry_out.value(), (*issue)["carry_out_grams"]);
  EXPECT_EQ(serial->first, 1);
  EXPECT_EQ(serial->last, (sums.units - sums.buffer_units).value());
  EXPECT_EQ((*issue)["grams_approved"], grams);
  EXPECT_EQ((*issue)["merkle_leaves"], p["merkle_leaves"]);
  EXPECT_EQ((*issue)["serials"][0], p["serial"]);

  // The history moves the units without a gap: issued, then each move from the last holder.
  const auto& history = p["history"];
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["kind"], "issue");
  for (std::size_t i = 1; i < history.size(); ++i)
    EXPECT_EQ(history[i]["from"], history[i - 1]["to"]) << "operation " << i;
  EXPECT_EQ(history.back()["kind"], "retire");
  EXPECT_FALSE(history.back()["beneficiary"].get<std::string>().empty());
}

TEST_F(VerifiabilityDoc, TheExportVerifiesWithTheToolAndAlteredCopiesAreRefused) {
  ASSERT_EQ(public_key_.size(), 64U);
  std::string out;
  auto file = dir_.write("export.json", blocks_["example-export"]);
  ASSERT_EQ(runCli("audit verify --export '" + file + "' --public-key " + public_key_, &out), 0)
      << out;
  EXPECT_NE(out.find("export ok: 4 events verified, 1 signed heads checked, anchored through "
                     "event 130"),
            std::string::npos)
      << out;
  // The key may be given as the server's .pub file.
  auto pub = dir_.write("audit_ed25519.key.pub", public_key_ + "\n");
  out.clear();
  EXPECT_EQ(runCli("audit verify --export '" + file + "' --public-key '" + pub + "'", &out), 0)
      << out;

  auto altered = export_;
  altered["events"][0]["payload"]["units"] = 3;
  out.clear();
  EXPECT_EQ(verifyExportCli(altered, public_key_, &out), 1) << out;
  EXPECT_NE(out.find("at event 127"), std::string::npos) << out;

  auto rehashed = export_;  // the personal event's payload hash replaced: its hash breaks
  std::string ph = rehashed["events"][3]["payload_sha256"];
  ph[0] = ph[0] == '0' ? '1' : '0';
  rehashed["events"][3]["payload_sha256"] = ph;
  out.clear();
  EXPECT_EQ(verifyExportCli(rehashed, public_key_, &out), 1) << out;
  EXPECT_NE(out.find("at event 130"), std::string::npos) << out;

  auto removed = export_;
  removed["events"].erase(1);
  out.clear();
  EXPECT_EQ(verifyExportCli(removed, public_key_, &out), 1) << out;
  EXPECT_NE(out.find("event 128 is missing"), std::string::npos) << out;

  auto reordered = export_;
  std::swap(reordered["events"][1], reordered["events"][2]);
  out.clear();
  EXPECT_EQ(verifyExportCli(reordered, public_key_, &out), 1) << out;
  EXPECT_NE(out.find("at event 128"), std::string::npos) << out;

  // A head signed by another key, or checked against another key, is refused.
  auto other = audit::SigningKey::generate();
  out.clear();
  EXPECT_EQ(verifyExportCli(export_, other.publicKeyHex(), &out), 1) << out;
  EXPECT_NE(out.find("not signed by the given public key"), std::string::npos) << out;
  auto forged = export_;
  auto head = *audit::SignedHead::fromJson(forged["heads"][0]);
  head.public_key = public_key_;
  head.signature = other.signHex(head.message());
  forged["heads"][0] = head.toJson();
  out.clear();
  EXPECT_EQ(verifyExportCli(forged, public_key_, &out), 1) << out;
}

TEST_F(VerifiabilityDoc, ThePythonSnippetsRecomputeTheExample) {
  if (!haveCommand("command -v python3")) GTEST_SKIP() << "python3 is not installed";
  auto proof_py = dir_.write("verify_proof.py", blocks_["example-verify-proof"]);
  auto proof = dir_.write("proof.json", blocks_["example-proof"]);
  std::string out;
  EXPECT_EQ(runShell("python3 '" + proof_py + "' '" + proof + "' " + root_, &out), 0) << out;
  EXPECT_EQ(trimmed(out), "ok");

  auto changed = proof_;
  changed["leaf"]["grams"] = 480001;
  auto bad = dir_.write("bad-proof.json", changed.dump(1));
  out.clear();
  EXPECT_EQ(runShell("python3 '" + proof_py + "' '" + bad + "' " + root_, &out), 1) << out;
  EXPECT_EQ(out.rfind("MISMATCH", 0), 0U) << out;

  auto chain_py = dir_.write("verify_chain.py", blocks_["example-verify-chain"]);
  auto exported = dir_.write("export.json", blocks_["example-export"]);
  out.clear();
  EXPECT_EQ(runShell("python3 '" + chain_py + "' '" + exported + "'", &out), 0) << out;
  EXPECT_EQ(trimmed(out), "ok: events 127-130 link and hash");

  auto altered = export_;
  altered["events"][2]["payload"]["merkle_root"] = std::string(64, 'a');
  auto altered_file = dir_.write("altered.json", altered.dump(1));
  out.clear();
  EXPECT_NE(runShell("python3 '" + chain_py + "' '" + altered_file + "'", &out), 0) << out;
  EXPECT_NE(out.find("event 129"), std::string::npos) << out;

  // The signature check needs the `cryptography` package, which is not in the standard library.
  if (!haveCommand("python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519'")) {
    std::fprintf(stderr, "python3 has no cryptography package: the heads snippet is not run\n");
    return;
  }
  auto heads_py = dir_.write("verify_heads.py", blocks_["example-verify-heads"]);
  out.clear();
  EXPECT_EQ(runShell("python3 '" + heads_py + "' '" + exported + "' " + public_key_, &out), 0)
      << out;
  EXPECT_NE(out.find("head of 2026-04-21 (130 events) is signed"), std::string::npos) << out;
  auto other = audit::SigningKey::generate();
  out.clear();
  EXPECT_NE(runShell("python3 '" + heads_py + "' '" + exported + "' " + other.publicKeyHex(), &out),
            0)
      << out;
}

}  // namespace
}  // namespace tph
