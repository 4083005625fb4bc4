package dev.verity.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class ActivationRangesTest {
  private static List<float[]> examples(SplittableRandom rnd, int n, int width) {
    List<float[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(OnnxRuntimeCompatibilityTest.random(rnd, width));
    }
    return out;
  }

  @Test
  void measuresTheInputPerChannelAndEveryOtherValueOnce() {
    SplittableRandom rnd = new SplittableRandom(7);
    OnnxModel model = ReferenceInferenceTest.cnn(rnd);
    List<float[]> xs = examples(rnd, 5, 128);
    ActivationRanges r = ActivationRanges.measure(model, xs);
    assertEquals(5, r.examples());
    double[] perChannel = new double[2];
    double conv = 0;
    ReferenceInference ref = ReferenceInference.of(model);
    for (float[] x : xs) {
      for (int i = 0; i < x.length; i++) {
        perChannel[i / 64] = Math.max(perChannel[i / 64], Math.abs(x[i]));
      }
      conv = Math.max(conv, ref.run(x).get("c1").maxAbs());
    }
    assertArrayEquals(perChannel, r.range("x").orElseThrow());
    assertArrayEquals(new double[] {conv}, r.range("c1").orElseThrow());
    assertEquals(ref.valueNames().stream().sorted().toList(), r.names());
  }

  @Test
  void travelsInsideTheModelFileAndSurvivesWritingAndReading() {
    SplittableRandom rnd = new SplittableRandom(8);
    OnnxModel model = ReferenceInferenceTest.cnn(rnd);
    ActivationRanges r = ActivationRanges.measure(model, examples(rnd, 3, 128));
    OnnxModel withRanges = r.embedIn(model);
    OnnxModel read = OnnxReader.read(OnnxWriter.write(withRanges));
    assertEquals(r, ActivationRanges.of(read).orElseThrow());
    assertTrue(ActivationRanges.of(model).isEmpty());
    assertEquals(model.graph(), read.graph());
  }

  @Test
  void rejectsMalformedMetadata() {
    for (String bad : List.of("", "[]", "{}", "{\"v\":2,\"examples\":1,\"ranges\":{}}",
        "{\"v\":1,\"examples\":0,\"ranges\":{}}",
        "{\"v\":1,\"examples\":1,\"ranges\":{\"a\":[]}}",
        "{\"v\":1,\"examples\":1,\"ranges\":{\"a\":[-1]}}",
        "{\"v\":1,\"examples\":1,\"ranges\":{\"a\":[\"1\"]}}",
        "{\"v\":1,\"examples\":1,\"ranges\":{\"a\":[1]},\"extra\":1}",
        "{\"v\":1,\"examples\":1,\"ranges\":{\"a\":[1],\"a\":[2]}}",
        "{\"v\":1,\"v\":1,\"examples\":1,\"ranges\":{}}",
        "{\"v\":1,\"examples\":1,\"ranges\":{}} trailing",
        "{\"v\":1,\"examples\":1e3,\"ranges\":{}}",
        "{\"v\":1,\"examples\":1,\"ranges\":{\"a\":[1e999]}}")) {
      assertThrows(DecodingException.class, () -> ActivationRanges.fromJson(bad), bad);
    }
  }

  @Property(tries = 200)
  void randomTextNeverDecodesToSomethingElseThanItsJson(@ForAll String text) {
    try {
      ActivationRanges r = ActivationRanges.fromJson(text);
      assertEquals(r, ActivationRanges.fromJson(r.toJson()));
    } catch (DecodingException expected) {
      // refused cleanly
    }
  }

  @Property(tries = 100)
  void roundTripsThroughJson(@ForAll("examples") List<Double> values) {
    SplittableRandom rnd = new SplittableRandom(values.size());
    OnnxModel model = ReferenceInferenceTest.cnn(rnd);
    List<float[]> xs = new ArrayList<>();
    float[] x = new float[128];
    for (int i = 0; i < values.size() && i < 128; i++) {
      x[i] = values.get(i).floatValue();
    }
    xs.add(x);
    ActivationRanges r = ActivationRanges.measure(model, xs);
    assertEquals(r, ActivationRanges.fromJson(r.toJson()));
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<List<Double>> examples() {
    return net.jqwik.api.Arbitraries.doubles().between(-1e6, 1e6).list().ofMinSize(1).ofMaxSize(128);
  }
}
