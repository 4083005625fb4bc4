package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.ActivationRanges;
import dev.verity.onnx.OnnxReader;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The built-in models, compiled from their ONNX files, classify their held-out data within half a
 * percentage point of the float model run by ONNX Runtime.
 */
class QuantizationAccuracyTest {
  private static final double MAX_LOSS_POINTS = 0.5;
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** Accuracy of the float model (ONNX Runtime) and of the compiled integer model, on held-out data. */
  record Accuracy(int examples, int floatCorrect, int quantizedCorrect, int agreements, double maxProbabilityError,
      String circuit) {
    double lossPoints() {
      return 100.0 * (floatCorrect - quantizedCorrect) / examples;
    }
  }

  static Accuracy measure(ExampleModel m) throws OrtException {
    CompiledModel compiled = OnnxCompiler.compile(m.cid(), m.onnx());
    List<ExampleModel.Sample> heldOut = BuiltinModels.heldOut(m.name());
    int floatRight = 0;
    int quantRight = 0;
    int agree = 0;
    double maxError = 0;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = ENV.createSession(m.onnx(), options)) {
      for (ExampleModel.Sample s : heldOut) {
        float[] p;
        try (OnnxTensor x = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(s.values()), s.shape());
            OrtSession.Result r = session.run(Map.of(m.inputName(), x))) {
          FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
          p = new float[out.remaining()];
          out.get(p);
        }
        float[] q = compiled.decodeOutput(compiled.run(compiled.encodeInput(s.values())));
        int fp = argmax(p);
        int qp = argmax(q);
        floatRight += fp == s.label() ? 1 : 0;
        quantRight += qp == s.label() ? 1 : 0;
        agree += fp == qp ? 1 : 0;
        for (int i = 0; i < p.length; i++) {
          maxError = Math.max(maxError, Math.abs(p[i] - q[i]));
        }
      }
    }
    return new Accuracy(heldOut.size(), floatRight, quantRight, agree, maxError, compiled.describe());
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  private static void check(String name) throws OrtException {
    ExampleModel m = BuiltinModels.byName(name).orElseThrow();
    Accuracy a = measure(m);
    System.out.printf(java.util.Locale.ROOT, "%s: held-out %d, float (ONNX Runtime) %.2f %%, quantized %.2f %%, loss %.2f points,"
            + " same class on %d, largest probability difference %.2e; circuit %s%n", name, a.examples(),
        100.0 * a.floatCorrect() / a.examples(), 100.0 * a.quantizedCorrect() / a.examples(), a.lossPoints(),
        a.agreements(), a.maxProbabilityError(), a.circuit());
    assertTrue(a.lossPoints() <= MAX_LOSS_POINTS, name + " loses " + a.lossPoints() + " points");
    assertEquals(m.heldOutSize(), a.examples());
  }

  @Test
  void breastCancerLosesAtMostHalfAPointOnHeldOutData() throws OrtException {
    check(BuiltinModels.BREAST_CANCER);
  }

  @Test
  void digitsCnnLosesAtMostHalfAPointOnHeldOutData() throws OrtException {
    check(BuiltinModels.DIGITS_CNN);
  }

  @Test
  void calibratingOnTheTrainingSplitGivesTheModelThatTheFileDescribes() {
    // the ranges in the file are those of the training split: calibrating again changes nothing
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    var onnx = OnnxReader.read(m.onnx());
    List<float[]> rows = BuiltinModels.training(m.name()).stream().map(ExampleModel.Sample::values).toList();
    CompiledModel fromFile = OnnxCompiler.compile(m.cid(), m.onnx());
    CompiledModel calibrated = OnnxCompiler.compile(m.cid(), onnx, ActivationRanges.measure(onnx, rows));
    assertEquals(VerifyingKey.of(fromFile.quantized()), VerifyingKey.of(calibrated.quantized()));
  }
}
