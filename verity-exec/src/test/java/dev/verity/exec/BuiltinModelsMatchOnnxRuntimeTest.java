package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.verity.models.ExampleModel;
import dev.verity.onnx.OnnxModel;
import dev.verity.protocol.tensor.NamedTensors;
import org.junit.jupiter.api.Test;

/**
 * The canonical executor gives what ONNX Runtime gives on the built-in models and on larger
 * synthetic networks: within tolerance, and the same predicted class on every held-out sample.
 */
class BuiltinModelsMatchOnnxRuntimeTest {

  @Test
  void builtinModelsMatchOnnxRuntimeOnEveryHeldOutSample() throws Exception {
    for (ExampleModel m : Fixtures.builtins()) {
      OnnxModel model = Fixtures.onnx(m);
      try (CanonicalExecutor ex = CanonicalExecutor.create(model); Ort ort = new Ort(model)) {
        for (int i = 0; i < m.samples().size(); i++) {
          NamedTensors in = Fixtures.sample(m, i);
          NamedTensors expected = ort.run(in);
          NamedTensors actual = ex.run(in);
          Tolerance.assertClose(expected, actual, m.name() + " sample " + i);
          float[] e = expected.get(m.outputName()).toFloats();
          float[] a = actual.get(m.outputName()).toFloats();
          assertEquals(Tolerance.argmax(e, 0, e.length), Tolerance.argmax(a, 0, a.length),
              m.name() + " sample " + i + ": predicted class");
        }
        NamedTensors batch = Fixtures.samplesBatch(m);
        Tolerance.assertClose(ort.run(batch), ex.run(batch), m.name() + " batch");
      }
    }
  }

  @Test
  void largerNetworksMatchOnnxRuntime() throws Exception {
    OnnxModel mlp = Fixtures.mlp(256, 128, 10, 1);
    NamedTensors rows = Fixtures.randomRows(3, 256, 2);
    try (CanonicalExecutor ex = CanonicalExecutor.create(mlp, 2)) {
      Tolerance.assertClose(Ort.runOnce(mlp, rows), ex.run(rows), "mlp");
    }
    OnnxModel conv = Fixtures.convNet(3);
    NamedTensors images = Fixtures.images(2, 4);
    try (CanonicalExecutor ex = CanonicalExecutor.create(conv, 2)) {
      Tolerance.assertClose(Ort.runOnce(conv, images), ex.run(images), "conv net");
    }
  }
}
