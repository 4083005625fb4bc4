package dev.verity.exec;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/** ONNX Runtime, single-threaded, as the reference the canonical executor is compared with. */
final class Ort implements AutoCloseable {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private final OrtSession session;

  Ort(OnnxModel model) throws OrtException {
    this(OnnxWriter.write(model));
  }

  Ort(byte[] onnx) throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      o.setInterOpNumThreads(1);
      session = ENV.createSession(onnx, o);
    }
  }

  static NamedTensors runOnce(OnnxModel model, NamedTensors inputs) throws OrtException {
    try (Ort ort = new Ort(model)) {
      return ort.run(inputs);
    }
  }

  NamedTensors run(NamedTensors inputs) throws OrtException {
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      for (var e : inputs.asMap().entrySet()) {
        Tensor t = e.getValue();
        feed.put(e.getKey(), t.type() == ElementType.FLOAT32
            ? OnnxTensor.createTensor(ENV, FloatBuffer.wrap(t.toFloats()), t.shape())
            : OnnxTensor.createTensor(ENV, LongBuffer.wrap(t.toLongs()), t.shape()));
      }
      try (OrtSession.Result r = session.run(feed)) {
        Map<String, Tensor> out = new TreeMap<>();
        for (Map.Entry<String, OnnxValue> e : r) {
          OnnxTensor t = (OnnxTensor) e.getValue();
          long[] shape = t.getInfo().getShape();
          FloatBuffer fb = t.getFloatBuffer();
          float[] f = new float[fb.remaining()];
          fb.get(f);
          out.put(e.getKey(), Tensor.ofFloats(shape, f));
        }
        return NamedTensors.of(out);
      }
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  /** Raw session for timing: the caller builds its inputs once. */
  OrtSession session() {
    return session;
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
