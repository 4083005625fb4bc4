package dev.verity.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.protocol.tensor.TensorSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxRuntimeEngineTest {
  static OnnxRuntimeEngine engine;
  static LoadedModel add;

  @BeforeAll
  static void load() {
    engine = OnnxRuntimeEngine.create();
    add = engine.load(ModelSource.bytes(TestModels.add()), TestModels.CONFIG);
  }

  @AfterAll
  static void close() {
    add.close();
    engine.close();
  }

  static Tensor floats(long rows, long cols, float start) {
    float[] v = new float[(int) (rows * cols)];
    for (int i = 0; i < v.length; i++) {
      v[i] = start + i;
    }
    return Tensor.ofFloats(new long[] {rows, cols}, v);
  }

  @Test
  void reportsSpecsWithSymbolicAxesAsTheRuntimeSeesThem() {
    TensorSpec x = new TensorSpec("x", ElementType.FLOAT32, List.of(Dim.dynamic("N"), Dim.fixed(3)));
    assertEquals(List.of(x, new TensorSpec("y", ElementType.FLOAT32, x.shape())), add.inputs());
    assertEquals(List.of(new TensorSpec("z", ElementType.FLOAT32, x.shape())), add.outputs());
  }

  @Test
  void reportsEngineProvenance() {
    EngineInfo info = add.info();
    assertEquals("onnxruntime", info.engine());
    assertEquals(engine.version(), info.version());
    assertTrue(info.version().matches("\\d+\\.\\d+\\.\\d+"), info.version());
    assertEquals(ExecutionProvider.CPU, info.executionProvider());
  }

  @Test
  void addsTensorsOfAnyBatchSize() {
    for (long rows : new long[] {1, 4, 0}) {
      NamedTensors out = add.run(NamedTensors.of(Map.of("x", floats(rows, 3, 0), "y", floats(rows, 3, 100))));
      float[] z = out.get("z").toFloats();
      assertArrayEquals(new long[] {rows, 3}, out.get("z").shape());
      for (int i = 0; i < z.length; i++) {
        assertEquals(100f + 2 * i, z[i]);
      }
    }
  }

  @Test
  void loadsTheSameModelFromAFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("add.onnx");
    Files.write(file, TestModels.add());
    try (LoadedModel fromFile = engine.load(ModelSource.file(file), TestModels.CONFIG)) {
      assertEquals(add.signature(), fromFile.signature());
      NamedTensors in = NamedTensors.of(Map.of("x", floats(2, 3, 1), "y", floats(2, 3, 5)));
      assertEquals(add.run(in), fromFile.run(in));
    }
  }

  @Test
  void rejectsMissingInputNamingIt() {
    var e = assertThrows(InvalidInputException.class, () -> add.run(NamedTensors.of("x", floats(1, 3, 0))));
    assertTrue(e.getMessage().contains("missing input 'y'"), e.getMessage());
  }

  @Test
  void rejectsUnknownInputNamingIt() {
    var e = assertThrows(InvalidInputException.class,
        () -> add.run(NamedTensors.of(Map.of("x", floats(1, 3, 0), "y", floats(1, 3, 0), "w", floats(1, 3, 0)))));
    assertTrue(e.getMessage().contains("unknown input 'w'"), e.getMessage());
  }

  @Test
  void rejectsWrongShapeSayingWhatTheModelExpects() {
    var e = assertThrows(InvalidInputException.class,
        () -> add.run(NamedTensors.of(Map.of("x", floats(1, 4, 0), "y", floats(1, 3, 0)))));
    assertEquals("input 'x' has shape [1, 4], model expects [N, 3]", e.getMessage());
  }

  @Test
  void rejectsWrongRank() {
    Tensor flat = Tensor.ofFloats(new long[] {3}, new float[3]);
    var e = assertThrows(InvalidInputException.class,
        () -> add.run(NamedTensors.of(Map.of("x", flat, "y", floats(1, 3, 0)))));
    assertTrue(e.getMessage().contains("model expects [N, 3]"), e.getMessage());
  }

  @Test
  void rejectsWrongElementType() {
    Tensor longs = Tensor.ofLongs(new long[] {1, 3}, new long[3]);
    var e = assertThrows(InvalidInputException.class,
        () -> add.run(NamedTensors.of(Map.of("x", floats(1, 3, 0), "y", longs))));
    assertEquals("input 'y' has type int64, model expects float32", e.getMessage());
  }

  @Test
  void rejectsInputsDisagreeingOnASharedSymbolicAxis() {
    var e = assertThrows(InvalidInputException.class,
        () -> add.run(NamedTensors.of(Map.of("x", floats(2, 3, 0), "y", floats(5, 3, 0)))));
    assertTrue(e.getMessage().contains("axis N is 5 here but 2 in input 'x'"), e.getMessage());
  }

  @Test
  void rejectsInputsAboveTheElementLimitBeforeRunning() {
    SessionConfig small = TestModels.CONFIG.toBuilder().limits(new TensorLimits(4, 6, 1 << 20)).build();
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.add()), small)) {
      m.run(NamedTensors.of(Map.of("x", floats(2, 3, 0), "y", floats(2, 3, 0))));
      var e = assertThrows(InvalidInputException.class,
          () -> m.run(NamedTensors.of(Map.of("x", floats(3, 3, 0), "y", floats(3, 3, 0)))));
      assertTrue(e.getMessage().contains("9 elements; the limit is 6"), e.getMessage());
    }
  }

  @Test
  void rejectsInputsAboveTheByteLimitBeforeRunning() {
    SessionConfig small = TestModels.CONFIG.toBuilder().limits(new TensorLimits(4, 1000, 40)).build();
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.add()), small)) {
      var e = assertThrows(InvalidInputException.class,
          () -> m.run(NamedTensors.of(Map.of("x", floats(2, 3, 0), "y", floats(2, 3, 0)))));
      assertTrue(e.getMessage().contains("more than 40 bytes"), e.getMessage());
    }
  }

  @Test
  void refusesOutputsAboveTheLimit() {
    SessionConfig small = TestModels.CONFIG.toBuilder().limits(new TensorLimits(4, 8, 1 << 20)).build();
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.looseAdd()), small)) {
      // [8,1] + [1,8] broadcasts to 64 elements although each input has 8.
      Tensor col = Tensor.ofFloats(new long[] {8, 1}, new float[8]);
      Tensor row = Tensor.ofFloats(new long[] {1, 8}, new float[8]);
      var e = assertThrows(InferenceException.class, () -> m.run(NamedTensors.of(Map.of("x", col, "y", row))));
      assertTrue(e.getMessage().contains("output 'z' has shape [8, 8], 64 elements"), e.getMessage());
    }
  }

  @Test
  void reportsRuntimeFailuresAsInferenceException() {
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.looseAdd()), TestModels.CONFIG)) {
      var e = assertThrows(InferenceException.class,
          () -> m.run(NamedTensors.of(Map.of("x", floats(2, 3, 0), "y", floats(4, 5, 0)))));
      assertTrue(e.getMessage().startsWith("ONNX Runtime failed to run the model"), e.getMessage());
    }
  }

  @Test
  void carriesEveryElementTypeThroughUnchanged() {
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.identities()), TestModels.CONFIG)) {
      assertEquals(ElementType.values().length, m.inputs().size());
      java.util.TreeMap<String, Tensor> in = new java.util.TreeMap<>();
      for (ElementType t : ElementType.values()) {
        Tensor v;
        if (t == ElementType.STRING) {
          v = Tensor.ofStrings(new long[] {3}, List.of("a", "", "ünï\u00e7ødé ✓ 中文"));
        } else if (t == ElementType.BOOL) {
          v = Tensor.ofBools(new long[] {3}, new boolean[] {true, false, true});
        } else {
          byte[] raw = new byte[3 * t.byteSize()];
          for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (0x81 + 37 * i);
          }
          v = Tensor.ofBytes(t, new long[] {3}, raw);
        }
        in.put("in_" + t.wireName(), v);
      }
      NamedTensors out = m.run(NamedTensors.of(in));
      for (ElementType t : ElementType.values()) {
        assertEquals(in.get("in_" + t.wireName()), out.get("out_" + t.wireName()), t.wireName());
      }
    }
  }

  @Test
  void runsBoolInt64ScalarAndStringTensors() {
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.mixed()), TestModels.CONFIG)) {
      assertEquals(List.of(), m.inputs().get(1).shape(), "count is a scalar");
      NamedTensors out = m.run(NamedTensors.of(Map.of(
          "flag", Tensor.ofBools(new long[] {2}, new boolean[] {true, false}),
          "count", Tensor.ofLongs(new long[0], new long[] {41}),
          "words", Tensor.ofStrings(new long[] {2}, List.of("hello", "world")))));
      assertArrayEquals(new boolean[] {false, true}, out.get("notFlag").toBools());
      assertArrayEquals(new long[] {42}, out.get("next").toLongs());
      assertEquals(0, out.get("next").rank());
      assertEquals(List.of("hello", "world"), out.get("echo").strings());
    }
  }

  @Test
  void rejectsStringsTheJavaBindingWouldAlter() {
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.mixed()), TestModels.CONFIG)) {
      for (String bad : List.of("smile \uD83D\uDE00", "nul\u0000byte")) {
        var e = assertThrows(InvalidInputException.class, () -> m.run(NamedTensors.of(Map.of(
            "flag", Tensor.ofBools(new long[] {2}, new boolean[] {true, false}),
            "count", Tensor.ofLongs(new long[0], new long[] {1}),
            "words", Tensor.ofStrings(new long[] {2}, List.of("fine", bad))))));
        assertTrue(e.getMessage().startsWith("input 'words' element 1 contains"), e.getMessage());
      }
    }
  }

  @Test
  void handsTheModelTheUtf8BytesOfStrings() {
    List<String> words = List.of("plain", "ünïçødé", "中文 ✓");
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.stringEquals(words)), TestModels.CONFIG)) {
      Tensor same = m.run(NamedTensors.of("words", Tensor.ofStrings(new long[] {3}, words))).get("same");
      assertArrayEquals(new boolean[] {true, true, true}, same.toBools());
      Tensor other = m.run(NamedTensors.of("words", Tensor.ofStrings(new long[] {3}, List.of("plain", "unicode", "中文 ✓")))).get("same");
      assertArrayEquals(new boolean[] {true, false, true}, other.toBools());
    }
  }

  @Test
  void runsConcurrentlyFromManyThreads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        float start = t;
        results.add(pool.submit(() -> {
          for (int i = 0; i < 20; i++) {
            float[] z = add.run(NamedTensors.of(Map.of("x", floats(2, 3, start), "y", floats(2, 3, start)))).get("z").toFloats();
            for (int k = 0; k < z.length; k++) {
              if (z[k] != 2 * (start + k)) {
                return false;
              }
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> f : results) {
        assertTrue(f.get());
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void refusesToRunAfterCloseAndCloseIsIdempotent() {
    LoadedModel m = engine.load(ModelSource.bytes(TestModels.add()), TestModels.CONFIG);
    m.close();
    m.close();
    var e = assertThrows(IllegalStateException.class,
        () -> m.run(NamedTensors.of(Map.of("x", floats(1, 3, 0), "y", floats(1, 3, 0)))));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void cudaWithoutCudaFailsClearlyOrFallsBackWhenAllowed() {
    SessionConfig cuda = TestModels.CONFIG.toBuilder().executionProvider(ExecutionProvider.CUDA).build();
    if (OnnxRuntimeEngine.availableProviders().contains(ExecutionProvider.CUDA)) {
      try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.add()), cuda)) {
        assertEquals(ExecutionProvider.CUDA, m.info().executionProvider());
      }
      return;
    }
    var e = assertThrows(ModelLoadException.class, () -> engine.load(ModelSource.bytes(TestModels.add()), cuda));
    assertTrue(e.getMessage().contains("cuda was requested"), e.getMessage());
    try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.add()), cuda.toBuilder().cpuFallback(true).build())) {
      assertEquals(ExecutionProvider.CPU, m.info().executionProvider());
      assertFalse(m.run(NamedTensors.of(Map.of("x", floats(1, 3, 0), "y", floats(1, 3, 0)))).names().isEmpty());
    }
  }

  @Test
  void honoursEveryOptimisationLevelWithTheSameResults() {
    NamedTensors in = NamedTensors.of(Map.of("x", floats(2, 3, 0.5f), "y", floats(2, 3, -3)));
    NamedTensors expected = add.run(in);
    for (SessionConfig.OptimizationLevel level : SessionConfig.OptimizationLevel.values()) {
      SessionConfig c = TestModels.CONFIG.toBuilder().optimization(level).memoryArena(level.ordinal() % 2 == 0).build();
      try (LoadedModel m = engine.load(ModelSource.bytes(TestModels.add()), c)) {
        assertEquals(expected, m.run(in), level.name());
      }
    }
  }
}
