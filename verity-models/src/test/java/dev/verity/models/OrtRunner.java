package dev.verity.models;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;

/** Runs an exported model in ONNX Runtime on a batch of rows. */
final class OrtRunner {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private OrtRunner() {}

  /**
   * Feeds {@code rows} (each one example, flattened) as one batch of the given per-row shape and
   * returns one output row per example.
   */
  static float[][] run(byte[] onnx, String input, float[][] rows, long... rowShape)
      throws OrtException {
    int width = rows[0].length;
    float[] flat = new float[rows.length * width];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * width, width);
    }
    long[] shape = new long[rowShape.length + 1];
    shape[0] = rows.length;
    System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = ENV.createSession(onnx, options);
        OnnxTensor x = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(flat), shape);
        OrtSession.Result result = session.run(Map.of(input, x))) {
      FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
      int classes = out.remaining() / rows.length;
      float[][] probs = new float[rows.length][classes];
      for (float[] p : probs) {
        out.get(p);
      }
      return probs;
    }
  }

  static int argmax(float[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }

  static float[][] rows(Dataset d) {
    float[][] rows = new float[d.size()][];
    for (int i = 0; i < d.size(); i++) {
      rows[i] = Training.toFloats(d.features()[i]);
    }
    return rows;
  }
}
