package dev.verity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.zk.Blinding;
import dev.verity.zk.InputOpening;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mode zk on the command line against a real node: infer --mode zk --save keeps the input opening
 * instead of the inputs; verify checks the proof offline (with the model file, or downloading it)
 * and the opening, and refuses forged outputs and wrong openings; up proves both built-in models.
 */
class CliZkTest {
  @TempDir static Path dir;
  static VerityNode node;
  static String owner;
  static Path saved;
  static Path modelFile;
  static ExampleModel digits;

  static CliEndToEndTest.Run run(boolean withNode, String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all = args;
    if (withNode) {
      all = new String[args.length + 4];
      System.arraycopy(args, 0, all, 0, args.length);
      all[args.length] = "--home";
      all[args.length + 1] = dir.resolve("home").toString();
      all[args.length + 2] = "--node";
      all[args.length + 3] = node.uri().toString();
    }
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = Main.run(all);
      return new CliEndToEndTest.Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  static CliEndToEndTest.Run cli(String... args) {
    return run(true, args);
  }

  @BeforeAll
  static void publishAndInfer() throws Exception {
    node = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(0));
    CliEndToEndTest.Run created = cli("keys", "new");
    assertEquals(0, created.exit(), created.err());
    owner = created.out().lines().filter(l -> l.contains("address:")).findFirst().orElseThrow().split(":\\s+")[1].trim();
    digits = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    modelFile = dir.resolve("digits.onnx");
    Files.write(modelFile, digits.onnx());
    CliEndToEndTest.Run published = cli("models", "publish", modelFile.toString(), "--repo", "digits", "--version", "1.0.0",
        "--mode", "receipt", "--mode", "zk");
    assertEquals(0, published.exit(), published.err());
    ExampleModel.Sample s = digits.samples().get(7);
    Path inputs = dir.resolve("image.json");
    Files.write(inputs, TensorJson.toBytes(NamedTensors.of("image", Tensor.ofFloats(s.shape(), s.values()))));
    saved = dir.resolve("zkrun");
    CliEndToEndTest.Run infer = cli("infer", owner + "/digits@1.0.0", "--mode", "zk", "--input", inputs.toString(),
        "--save", saved.toString());
    assertEquals(0, infer.exit(), infer.err());
    assertTrue(infer.err().contains("mode zk"), infer.err());
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void savesTheOpeningInsteadOfThePlainInputs() {
    assertTrue(Files.exists(saved.resolve("opening.cbor")));
    assertFalse(Files.exists(saved.resolve("inputs.json")));
  }

  @Test
  void verifiesTheProofOfflineWithTheModelFileAndTheOpening() {
    CliEndToEndTest.Run v = cli("verify", saved.resolve("receipt.cbor").toString(), "--outputs",
        saved.resolve("outputs.json").toString(), "--model", modelFile.toString(), "--opening",
        saved.resolve("opening.cbor").toString(), "--node-key", node.publicKey().toString());
    assertEquals(0, v.exit(), v.out() + v.err());
    assertTrue(v.out().contains("evidence for mode 'zk' verifies") && v.out().contains("opens to the inputs"), v.out());
    assertTrue(v.out().contains("VERIFIED"), v.out());
  }

  @Test
  void verifiesTheProofDownloadingTheModelWhenNoFileIsGiven() {
    CliEndToEndTest.Run v = cli("verify", saved.resolve("receipt.cbor").toString(), "--outputs",
        saved.resolve("outputs.json").toString());
    assertEquals(0, v.exit(), v.out() + v.err());
    assertTrue(v.out().contains("inputs stay hidden"), v.out());
  }

  @Test
  void refusesForgedOutputsAWrongOpeningAndPlainInputs() throws Exception {
    NamedTensors outputs = TensorJson.read(Files.readAllBytes(saved.resolve("outputs.json")), TensorLimits.DEFAULT);
    float[] p = outputs.get("probabilities").toFloats();
    p[0] += 0.01f;
    Path forged = dir.resolve("forged.json");
    Files.write(forged, TensorJson.toBytes(NamedTensors.of("probabilities", Tensor.ofFloats(new long[] {1, 10}, p))));
    CliEndToEndTest.Run bad = cli("verify", saved.resolve("receipt.cbor").toString(), "--outputs", forged.toString(),
        "--model", modelFile.toString());
    assertEquals(3, bad.exit(), bad.out() + bad.err());

    InputOpening real = InputOpening.decode(Files.readAllBytes(saved.resolve("opening.cbor")));
    Path wrong = dir.resolve("wrong-opening.cbor");
    Files.write(wrong, new InputOpening(real.inputs(), Blinding.random()).encode());
    CliEndToEndTest.Run badOpening = cli("verify", saved.resolve("receipt.cbor").toString(), "--outputs",
        saved.resolve("outputs.json").toString(), "--model", modelFile.toString(), "--opening", wrong.toString());
    assertEquals(3, badOpening.exit(), badOpening.out() + badOpening.err());

    Path plain = dir.resolve("plain.json");
    Files.write(plain, TensorJson.toBytes(real.inputs()));
    CliEndToEndTest.Run withInputs = cli("verify", saved.resolve("receipt.cbor").toString(), "--inputs", plain.toString(),
        "--model", modelFile.toString());
    assertTrue(withInputs.exit() != 0 && withInputs.err().contains("--opening"), withInputs.err());
  }

  @Test
  void checksAndCalibratesModelsForProofs() throws Exception {
    CliEndToEndTest.Run ok = run(false, "zk", "check", modelFile.toString());
    assertEquals(0, ok.exit(), ok.err());
    assertTrue(ok.out().contains("provable: 1x8x8 -> conv 16@3x3"), ok.out());

    // the same graph without its calibration ranges: refused until calibrated
    dev.verity.onnx.OnnxModel m = dev.verity.onnx.OnnxReader.read(digits.onnx());
    dev.verity.onnx.OnnxModel bare = new dev.verity.onnx.OnnxModel(m.irVersion(), m.opsetImports(), m.producerName(),
        m.producerVersion(), m.domain(), m.modelVersion(), m.docString(), m.graph(), java.util.Map.of());
    Path bareFile = dir.resolve("bare.onnx");
    Files.write(bareFile, dev.verity.onnx.OnnxWriter.write(bare));
    CliEndToEndTest.Run refused = run(false, "zk", "check", bareFile.toString());
    assertEquals(1, refused.exit());
    assertTrue(refused.err().contains("calibration"), refused.err());

    float[] batch = new float[3 * 64];
    for (int i = 0; i < 3; i++) {
      System.arraycopy(BuiltinModels.training(digits.name()).get(i).values(), 0, batch, i * 64, 64);
    }
    Path examples = dir.resolve("examples.npz");
    Files.write(examples, dev.verity.protocol.tensor.Npy.toNpz(NamedTensors.of("image", Tensor.ofFloats(new long[] {3, 1, 8, 8}, batch))));
    Path calibrated = dir.resolve("calibrated.onnx");
    CliEndToEndTest.Run cal = run(false, "zk", "calibrate", bareFile.toString(), "--examples", examples.toString(), "-o",
        calibrated.toString());
    assertEquals(0, cal.exit(), cal.err());
    assertTrue(run(false, "zk", "check", calibrated.toString()).out().contains("provable"));

    Path sigmoid = dir.resolve("sigmoid.onnx");
    Files.write(sigmoid, dev.verity.onnx.OnnxWriter.write(dev.verity.onnx.OnnxModel.builder()
        .input("x", dev.verity.onnx.ElementType.FLOAT, dev.verity.onnx.Dim.symbolic("N"), dev.verity.onnx.Dim.of(3))
        .output("y", dev.verity.onnx.ElementType.FLOAT, dev.verity.onnx.Dim.symbolic("N"), dev.verity.onnx.Dim.of(3))
        .node("Sigmoid", java.util.List.of("x"), java.util.List.of("y")).build()));
    CliEndToEndTest.Run unsupported = run(false, "zk", "check", sigmoid.toString());
    assertEquals(1, unsupported.exit());
    assertTrue(unsupported.err().contains("operator 'Sigmoid'"), unsupported.err());
  }

  /** The summary line of 'up' for a model and mode, e.g. "digits-cnn zk 9/10 samples correct, ...". */
  private static String summary(String out, ExampleModel m, String mode) {
    String after = out.substring(out.indexOf("Summary"));
    return after.lines().map(String::strip).filter(l -> l.matches(java.util.regex.Pattern.quote(m.name()) + "\\s+" + mode + "\\s+.*"))
        .map(l -> l.replaceAll("\\s+", " ")).findFirst().orElseThrow(() -> new AssertionError("no " + mode + " line in " + out));
  }

  @Test
  void upProvesBothBuiltinModelsAndVerifiesThem() {
    CliEndToEndTest.Run up = run(false, "up", "--exit", "--port", "0", "--data-dir", dir.resolve("up").toString());
    assertEquals(0, up.exit(), up.out() + up.err());
    for (ExampleModel m : BuiltinModels.all()) {
      // the quantized network classifies the samples as the float model does
      String receipt = summary(up.out(), m, "receipt");
      String zk = summary(up.out(), m, "zk");
      assertTrue(zk.contains("every receipt verified"), up.out());
      assertEquals(receipt.substring(0, receipt.indexOf("correct")).replace("receipt", ""),
          zk.substring(0, zk.indexOf("correct")).replace("zk", ""));
    }
    assertTrue(up.out().contains("proofs of the quantized logits"), up.out());
  }
}
