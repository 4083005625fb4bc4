package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.verity.core.crypto.Signer;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real third-party ONNX models (Silero VAD v4 and v5, PaddleOCR v4 detection and recognition,
 * PaddleOCR v2 direction classifier; see docs/test-models.md) published through the SDK and run
 * over HTTP with verified receipts. Each output must be bit-identical to what ONNX Runtime gives
 * when it runs the same file directly with the node's settings.
 *
 * <p>The models are fetched by scripts/fetch-test-models.sh and located like verity-runtime's
 * tests do: system property {@code verity.test.models}, environment variable {@code
 * VERITY_TEST_MODELS}, else {@code .cache/test-models} in the repository. Missing models fail the
 * test when {@code CI=true} and skip it otherwise.
 */
class ThirdPartyModelsOverHttpTest {
  @TempDir static Path tmp;
  static Path modelDir;
  static VerityNode node;
  static Signer owner;
  static VerityClient client;

  /** One model and the deterministic inputs it is run on. */
  record Case(String file, String repository, NamedTensors inputs) {
    @Override
    public String toString() {
      return file;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("silero_vad_16k_op15.onnx", "silero-vad-v5", tensors(Map.of(
            "input", noise(new long[] {1, 512}, 7, 0.5f),
            "state", noise(new long[] {2, 1, 128}, 11, 0.1f),
            "sr", Tensor.ofLongs(new long[0], new long[] {16_000})))),
        new Case("silero_vad_v4.onnx", "silero-vad-v4", tensors(Map.of(
            "input", noise(new long[] {1, 1536}, 3, 0.3f),
            "sr", Tensor.ofLongs(new long[0], new long[] {16_000}),
            "h", noise(new long[] {2, 1, 64}, 5, 0.1f),
            "c", noise(new long[] {2, 1, 64}, 9, 0.1f)))),
        // 3 x 160 x 160 float32 is 300 kB: this one travels as .npz.
        new Case("ppocr_v4_det.onnx", "ppocr-det", tensors(Map.of("x", textLines(new long[] {1, 3, 160, 160})))),
        new Case("ppocr_mobile_v2_cls.onnx", "ppocr-cls", tensors(Map.of("x", textLines(new long[] {1, 3, 48, 192})))),
        new Case("ppocr_v4_rec.onnx", "ppocr-rec", tensors(Map.of("x", textLines(new long[] {1, 3, 48, 96})))));
  }

  @BeforeAll
  static void startNode() throws IOException {
    modelDir = modelDirectory();
    List<String> missing = cases().map(Case::file).filter(f -> !Files.isRegularFile(modelDir.resolve(f))).toList();
    if (!missing.isEmpty()) {
      String message = "third-party test models " + missing + " are missing from " + modelDir
          + "; run scripts/fetch-test-models.sh (or set VERITY_TEST_MODELS to where they are)";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail(message);
      }
      System.err.println("ThirdPartyModelsOverHttpTest skipped: " + message);
      Assumptions.abort(message);
    }
    node = NodeHarness.start(tmp.resolve("node"));
    owner = Signer.generate();
    client = NodeHarness.client(node, owner);
  }

  @AfterAll
  static void stopNode() throws IOException {
    if (node != null) {
      client.close();
      node.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void publishedThirdPartyModelGivesVerifiedOutputsBitIdenticalToOnnxRuntime(Case c) throws Exception {
    Path file = modelDir.resolve(c.file());
    ModelManifest manifest = client.publish(file, Publication.of(c.repository(), "1.0.0")
        .withDetails("third-party", "see docs/test-models.md", c.file(), List.of()), ProgressListener.NONE);
    assertEquals(Files.size(file), manifest.modelSize());

    InferenceResult r = client.infer(ModelRef.of(owner.address(), c.repository(), "1.0.0"), c.inputs());
    NamedTensors expected = NodeHarness.runDirectly(file, node.config(), c.inputs());
    assertEquals(expected.names(), r.outputs().names());
    for (String name : expected.names()) {
      assertEquals(expected.get(name), r.outputs().get(name), c.file() + " output " + name);
      assertTrue(r.outputs().get(name).elementCount() > 0);
    }
    assertEquals(c.inputs().cid(), r.receipt().inputs());
    assertEquals(expected.cid(), r.receipt().outputs());
    assertEquals(manifest.cid(), r.receipt().manifest());

    Path copy = tmp.resolve("download-" + c.file());
    client.download(ModelRef.ofManifest(manifest.cid()), copy, ProgressListener.NONE);
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(copy));
  }

  // ---- inputs ------------------------------------------------------------------------------

  static NamedTensors tensors(Map<String, Tensor> t) {
    return NamedTensors.of(new TreeMap<>(t));
  }

  /** Uniform noise in [-scale, scale) from a 32-bit LCG, exact in float32. */
  static Tensor noise(long[] shape, int seed, float scale) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    int state = seed;
    for (int i = 0; i < v.length; i++) {
      state = state * 1664525 + 1013904223;
      v[i] = ((state >>> 8) / 16777216f * 2f - 1f) * scale;
    }
    return Tensor.ofFloats(shape, v);
  }

  /** A synthetic image of dark text-like bars on a light background, in the models' input range. */
  static Tensor textLines(long[] shape) {
    int h = (int) shape[2];
    int w = (int) shape[3];
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      int x = i % w;
      int y = (i / w) % h;
      boolean ink = y % 16 >= 4 && y % 16 < 12 && x >= 8 && x < w - 8 && x % 12 < 9;
      v[i] = ink ? -0.8f : 0.9f;
    }
    return Tensor.ofFloats(shape, v);
  }

  static Path modelDirectory() {
    String configured = System.getProperty("verity.test.models", System.getenv("VERITY_TEST_MODELS"));
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts/fetch-test-models.sh"))) {
        return p.resolve(".cache/test-models");
      }
    }
    return dir.resolve(".cache/test-models");
  }
}
