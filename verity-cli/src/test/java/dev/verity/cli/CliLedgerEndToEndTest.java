package dev.verity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.LedgerSettings;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.sdk.VerityClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger from the command line, against a real node with an embedded dev ledger: faucet,
 * registering a priced model, paid inference (a job opened automatically, or given with --job),
 * balances with proofs, jobs, blocks, and {@code verify --ledger}; then {@code verity up} end to end.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliLedgerEndToEndTest {
  @TempDir static Path dir;
  static VerityNode node;
  static Signer owner;
  static Signer client;
  static String model;

  record Run(int exit, String out, String err) {}

  static Run cli(String key, String... args) {
    String[] all = new String[args.length + 6];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--home";
    all[args.length + 1] = dir.resolve("home").toString();
    all[args.length + 2] = "--node";
    all[args.length + 3] = node.uri().toString();
    all[args.length + 4] = "--key";
    all[args.length + 5] = key;
    return run(all);
  }

  static Run run(String... all) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = Main.run(all);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  static Run ok(Run r) {
    assertEquals(0, r.exit(), r.out() + r.err());
    return r;
  }

  @BeforeAll
  static void startNode() throws Exception {
    node = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(0)
        .withLedger(LedgerSettings.embedded(Optional.empty()).withReceiptBatch(4, Duration.ofMillis(100))));
    Files.createDirectories(dir.resolve("home/keys"));
    owner = Signer.generate();
    client = Signer.generate();
    KeyFile.write(dir.resolve("home/keys/owner.key"), owner);
    KeyFile.write(dir.resolve("home/keys/client.key"), client);
    ExampleModel m = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    Files.write(dir.resolve("bc.onnx"), m.onnx());
    ExampleModel.Sample s = m.samples().get(0);
    Files.write(dir.resolve("inputs.json"), TensorJson.toBytes(NamedTensors.of("features", Tensor.ofFloats(s.shape(), s.values()))));
    model = owner.address() + "/bc@1.0.0";
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  @Test
  @Order(1)
  void fundsAnAccountAndRegistersAPricedModel() {
    ok(cli("owner", "models", "publish", dir.resolve("bc.onnx").toString(), "--repo", "bc", "--version", "1.0.0",
        "--price", "5"));
    Run broke = cli("owner", "ledger", "register-model", model);
    assertEquals(1, broke.exit());
    assertTrue(broke.err().contains("INSUFFICIENT_FUNDS") && broke.err().contains("fee of 1"), broke.err());
    ok(cli("owner", "ledger", "faucet", "--amount", "10"));
    Run registered = ok(cli("owner", "ledger", "register-model", model));
    assertTrue(registered.out().contains("registered at a royalty of 5"), registered.out());
    Run faucet = ok(cli("client", "ledger", "faucet", "--amount", "1000"));
    assertTrue(faucet.out().contains("faucet of 1000 committed in block"), faucet.out());
    Run account = ok(cli("client", "ledger", "account", "--prove"));
    assertTrue(account.out().contains("balance   999"), "1000 minted, 1 paid as the fee: " + account.out());
    assertTrue(account.out().contains("proven against block"), account.out());
  }

  @Test
  @Order(2)
  void paysForInferenceAndVerifiesThePaymentOnTheLedger() throws Exception {
    Path saved = dir.resolve("run1");
    Run infer = ok(cli("client", "infer", model, "--input", dir.resolve("inputs.json").toString(), "--save", saved.toString()));
    assertTrue(infer.err().contains("opened job") && infer.err().contains("escrowing 5"), infer.err());
    assertTrue(infer.err().contains("paid with job"), infer.err());
    InferenceReceipt receipt = InferenceReceipt.decode(Files.readAllBytes(saved.resolve("receipt.cbor")));
    String job = receipt.job().orElseThrow().toHex();

    try (VerityClient c = VerityClient.builder(node.uri()).build()) {
      c.ledger().awaitOnLedger(receipt, Duration.ofSeconds(30), passed -> {});
    }
    Run verify = ok(cli("client", "verify", saved.resolve("receipt.cbor").toString(), "--outputs",
        saved.resolve("outputs.json").toString(), "--ledger"));
    assertTrue(verify.out().contains("ok  receipt is committed in block"), verify.out());
    assertTrue(verify.out().contains("ok  job " + job + " is settled"), verify.out());
    assertTrue(verify.out().contains("settled by the node that signed it"), verify.out());
    assertTrue(verify.out().endsWith("VERIFIED\n"), verify.out());

    Run wrongSequencer = cli("client", "verify", saved.resolve("receipt.cbor").toString(), "--ledger",
        "--sequencer-key", Signer.generate().publicKey().toString());
    assertEquals(3, wrongSequencer.exit(), wrongSequencer.out() + wrongSequencer.err());
    assertTrue(wrongSequencer.err().contains("VERIFICATION FAILED"), wrongSequencer.err());

    Run pinned = ok(cli("client", "verify", saved.resolve("receipt.cbor").toString(), "--ledger",
        "--sequencer-key", node.publicKey().toString()));
    assertTrue(pinned.out().contains("the sequencer key you pinned"), pinned.out());

    Run shown = ok(cli("client", "ledger", "job", job));
    assertTrue(shown.out().contains("status    settled") && shown.out().contains("escrow    5, charged 5"), shown.out());

    Run reused = cli("client", "infer", model, "--input", dir.resolve("inputs.json").toString(), "--job", job);
    assertEquals(1, reused.exit());
    assertTrue(reused.err().contains("409"), reused.err());
  }

  @Test
  @Order(3)
  void opensAJobByHandAndShowsBlocksAndBalances() {
    Run opened = ok(cli("client", "ledger", "open-job", model, "--max-fee", "8"));
    String job = opened.out().trim();
    Run infer = ok(cli("client", "infer", model, "--input", dir.resolve("inputs.json").toString(), "--job", job));
    assertTrue(infer.err().contains("paid with job " + job), infer.err());

    Run transfer = ok(cli("client", "ledger", "transfer", "--to", owner.address().toString(), "--amount", "10"));
    assertTrue(transfer.out().contains("transfer of 10 to " + owner.address()), transfer.out());
    Run head = ok(cli("client", "ledger", "head"));
    assertTrue(head.out().contains("signed by   " + node.publicKey()), head.out());
    // the node's own registration and heartbeats are blocks too, so look a little further
    Run blocks = ok(cli("client", "ledger", "blocks", "--from", "1", "--count", "50"));
    assertTrue(blocks.out().contains("block 1 ") && blocks.out().contains("registerModel from " + owner.address()),
        blocks.out());
    Run unpaid = cli("client", "ledger", "account", owner.address().toString());
    assertTrue(unpaid.out().contains("as the node reports it"), unpaid.out());
  }

  @Test
  @Order(4)
  void aFreeReceiptHasNothingOnTheLedger() throws Exception {
    ok(cli("owner", "models", "publish", dir.resolve("bc.onnx").toString(), "--repo", "bc-free", "--version", "1.0.0"));
    Path saved = dir.resolve("free");
    Run infer = ok(cli("client", "infer", owner.address() + "/bc-free@1.0.0", "--input",
        dir.resolve("inputs.json").toString(), "--save", saved.toString()));
    assertTrue(!infer.err().contains("opened job"), "a model without a price needs no job: " + infer.err());
    Run verify = cli("client", "verify", saved.resolve("receipt.cbor").toString(), "--ledger");
    assertEquals(3, verify.exit(), verify.out() + verify.err());
    assertTrue(verify.err().contains("names no job"), verify.err());
  }

  @Test
  @Order(5)
  void anOptimisticReceiptIsPendingOnTheLedgerAndRecomputes() throws Exception {
    ok(cli("owner", "models", "publish", dir.resolve("bc.onnx").toString(), "--repo", "bc-opt", "--version", "1.0.0",
        "--price", "5", "--mode", "receipt", "--mode", "optimistic"));
    ok(cli("owner", "ledger", "register-model", owner.address() + "/bc-opt@1.0.0"));
    Path saved = dir.resolve("optimistic");
    ok(cli("client", "infer", owner.address() + "/bc-opt@1.0.0", "--mode", "optimistic", "--input",
        dir.resolve("inputs.json").toString(), "--save", saved.toString()));
    InferenceReceipt receipt = InferenceReceipt.decode(Files.readAllBytes(saved.resolve("receipt.cbor")));
    try (VerityClient c = VerityClient.builder(node.uri()).build()) {
      c.ledger().awaitOnLedger(receipt, Duration.ofSeconds(30), passed -> {});
    }
    Run verify = ok(cli("client", "verify", saved.resolve("receipt.cbor").toString(), "--outputs",
        saved.resolve("outputs.json").toString(), "--ledger", "--recompute"));
    assertTrue(verify.out().contains("ok  recomputed with the canonical executor"), verify.out());
    assertTrue(verify.out().contains("committed this receipt's trace"), verify.out());
    assertTrue(verify.out().contains("VERIFIED (pending: open to challenges until block"), verify.out());
  }

  @Test
  @Order(6)
  void upRunsPaidInferencesAndShowsExactShares() {
    Path upDir = dir.resolve("up");
    Run up = run("up", "--exit", "--port", "0", "--data-dir", upDir.toString());
    assertEquals(0, up.exit(), up.out() + up.err());
    assertTrue(up.out().contains("paid inferences: client -"), up.out());
    assertTrue(up.out().contains(", sum 0"), up.out());
    assertTrue(up.out().contains("verified with the light client"), up.out());
    assertTrue(up.out().contains("3/3 forgeries rejected"), up.out());
    assertTrue(up.out().contains("optimistic     trace of"), up.out());
  }
}
