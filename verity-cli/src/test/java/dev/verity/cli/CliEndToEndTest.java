package dev.verity.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line against a real node over real HTTP: keys, publish, list, show, infer with
 * --save, offline verify (and its refusal of tampered files), download, yank.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliEndToEndTest {
  @TempDir static Path dir;
  static VerityNode node;
  static String owner;

  record Run(int exit, String out, String err) {}

  static Run cli(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--home";
    all[args.length + 1] = dir.resolve("home").toString();
    all[args.length + 2] = "--node";
    all[args.length + 3] = node.uri().toString();
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

  @BeforeAll
  static void startNode() throws Exception {
    node = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(0));
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  @Test
  @Order(1)
  void createsAndShowsKeys() {
    Run created = cli("keys", "new");
    assertEquals(0, created.exit(), created.err());
    assertTrue(created.out().contains("address:    vt"), created.out());
    owner = created.out().lines().filter(l -> l.contains("address:")).findFirst().orElseThrow().split(":\\s+")[1].trim();
    Run again = cli("keys", "new");
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("exists already"), again.err());
    Run list = cli("keys", "list");
    assertTrue(list.out().contains(owner), list.out());
    Run show = cli("keys", "show");
    assertTrue(show.out().contains("public key: ed25519:"), show.out());
  }

  @Test
  @Order(2)
  void publishesListsAndShowsAModel() throws Exception {
    ExampleModel model = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    Path file = dir.resolve("bc.onnx");
    Files.write(file, model.onnx());
    Run published = cli("models", "publish", file.toString(), "--repo", "breast-cancer", "--version", "1.0.0",
        "--task", "classification", "--license", "BSD-3-Clause", "--tag", "clinical");
    assertEquals(0, published.exit(), published.err());
    assertTrue(published.out().contains("published " + owner + "/breast-cancer@1.0.0"), published.out());
    Run again = cli("models", "publish", file.toString(), "--repo", "breast-cancer", "--version", "1.0.0");
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("409") && again.err().contains("immutable"), again.err());
    Run list = cli("models", "list");
    assertTrue(list.out().contains(owner + "/breast-cancer  versions: 1.0.0"), list.out());
    Run show = cli("models", "show", owner + "/breast-cancer@1.0.0");
    assertEquals(0, show.exit(), show.err());
    assertTrue(show.out().contains("input       features float32[N, 30]"), show.out());
    assertTrue(show.out().contains("signature verified"), show.out());
  }

  @Test
  @Order(3)
  void infersSavesAndVerifiesOffline() throws Exception {
    ExampleModel model = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    ExampleModel.Sample s = model.samples().get(0);
    Path inputs = dir.resolve("inputs.json");
    Files.write(inputs, TensorJson.toBytes(NamedTensors.of("features", Tensor.ofFloats(s.shape(), s.values()))));
    Path saved = dir.resolve("run1");
    Run infer = cli("infer", owner + "/breast-cancer@1.0.0", "--input", inputs.toString(), "--save", saved.toString());
    assertEquals(0, infer.exit(), infer.err());
    assertTrue(infer.out().contains("\"probabilities\""), infer.out());
    assertTrue(infer.err().contains("receipt verified: bafy"), infer.err());

    Run verify = cli("verify", saved.resolve("receipt.cbor").toString(),
        "--inputs", saved.resolve("inputs.json").toString(), "--outputs", saved.resolve("outputs.json").toString(),
        "--node-key", node.publicKey().toString());
    assertEquals(0, verify.exit(), verify.err() + verify.out());
    assertTrue(verify.out().contains("VERIFIED"), verify.out());

    // Change one output value: offline verification must fail with exit code 3.
    NamedTensors outputs = TensorJson.read(Files.readAllBytes(saved.resolve("outputs.json")),
        dev.verity.protocol.tensor.TensorLimits.DEFAULT);
    float[] p = outputs.get("probabilities").toFloats();
    p[0] = p[0] + 0.25f;
    Path forged = dir.resolve("forged.json");
    Files.write(forged, TensorJson.toBytes(NamedTensors.of("probabilities", Tensor.ofFloats(outputs.get("probabilities").shape(), p))));
    Run bad = cli("verify", saved.resolve("receipt.cbor").toString(), "--outputs", forged.toString());
    assertEquals(3, bad.exit(), bad.out());
    assertTrue(bad.err().contains("VERIFICATION FAILED") && bad.err().contains("outputs do not match"), bad.err());

    // A receipt from a node the user does not trust is refused.
    Run untrusted = cli("verify", saved.resolve("receipt.cbor").toString(), "--node-key",
        dev.verity.core.crypto.Signer.generate().publicKey().toString());
    assertEquals(3, untrusted.exit());

    // A flipped byte in the saved receipt is refused.
    byte[] receipt = Files.readAllBytes(saved.resolve("receipt.cbor"));
    receipt[receipt.length - 5] ^= 0x10;
    Path flipped = dir.resolve("flipped").resolve("receipt.cbor");
    Files.createDirectories(flipped.getParent());
    Files.write(flipped, receipt);
    Files.copy(saved.resolve("manifest.cbor"), flipped.resolveSibling("manifest.cbor"));
    Run flippedRun = cli("verify", flipped.toString());
    assertEquals(3, flippedRun.exit(), flippedRun.out() + flippedRun.err());
  }

  @Test
  @Order(4)
  void downloadsTheModelCheckedAgainstItsCid() throws Exception {
    Path out = dir.resolve("downloaded.onnx");
    Run r = cli("models", "download", owner + "/breast-cancer@1.0.0", "-o", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertArrayEquals(BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow().onnx(), Files.readAllBytes(out));
  }

  @Test
  @Order(5)
  void yankedVersionsAreShownAndNotRun() throws Exception {
    Run yank = cli("models", "yank", owner + "/breast-cancer@1.0.0", "--reason", "superseded by 1.1");
    assertEquals(0, yank.exit(), yank.err());
    Run show = cli("models", "show", owner + "/breast-cancer@1.0.0");
    assertTrue(show.out().contains("[YANKED: superseded by 1.1]"), show.out());
    Run infer = cli("infer", owner + "/breast-cancer@1.0.0", "--input", dir.resolve("inputs.json").toString());
    assertEquals(1, infer.exit());
    assertTrue(infer.err().contains("yanked"), infer.err());
  }

  @Test
  @Order(6)
  void explainsAMissingNode() {
    PrintStream oldErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = Main.run("models", "list", "--node", "http://127.0.0.1:1", "--home", dir.resolve("home").toString());
      assertEquals(1, exit);
    } finally {
      System.setErr(oldErr);
    }
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot reach a Verity node"), err.toString(StandardCharsets.UTF_8));
  }
}
