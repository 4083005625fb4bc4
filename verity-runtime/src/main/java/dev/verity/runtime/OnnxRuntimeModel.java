package dev.verity.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.protocol.tensor.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model loaded into an ONNX Runtime session. Inputs are copied once into direct buffers the
 * runtime reads in place; outputs are copied once out of the runtime's memory into the tensors
 * returned. Every native object made for a run is closed before the run returns.
 */
final class OnnxRuntimeModel implements LoadedModel {
  private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelSignature signature;
  private final EngineInfo info;
  private final TensorLimits limits;

  /** Guarded by {@code this}: runs in flight, and whether close was asked for. */
  private int activeRuns;

  private boolean closed;
  private boolean released;

  OnnxRuntimeModel(OrtEnvironment env, OrtSession session, ModelSignature signature, EngineInfo info, TensorLimits limits) {
    this.env = env;
    this.session = session;
    this.signature = signature;
    this.info = info;
    this.limits = limits;
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public EngineInfo info() {
    return info;
  }

  @Override
  public NamedTensors run(NamedTensors inputs) {
    signature.checkInputs(inputs, limits);
    for (var e : inputs.asMap().entrySet()) {
      if (e.getValue().type() == ElementType.STRING) {
        checkCarriable(e.getKey(), e.getValue().strings());
      }
    }
    enter();
    try {
      Map<String, OnnxTensor> feed = new LinkedHashMap<>();
      try {
        for (TensorSpec spec : signature.inputs()) {
          feed.put(spec.name(), toOrt(inputs.get(spec.name())));
        }
        try (OrtSession.Result result = session.run(feed)) {
          return fromOrt(result);
        }
      } catch (OrtException e) {
        throw new InferenceException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
      } finally {
        for (OnnxTensor t : feed.values()) {
          t.close();
        }
      }
    } finally {
      exit();
    }
  }

  /**
   * ONNX Runtime's Java binding hands strings to native code in JNI's modified UTF-8, which
   * encodes NUL and characters beyond U+FFFF differently from UTF-8, so the model would see other
   * bytes than the client sent. Such strings are refused rather than silently altered.
   */
  private static void checkCarriable(String name, java.util.List<String> strings) {
    for (int i = 0; i < strings.size(); i++) {
      String s = strings.get(i);
      for (int k = 0; k < s.length(); k++) {
        char c = s.charAt(k);
        if (c == 0 || Character.isSurrogate(c)) {
          throw new InvalidInputException(
              "input '" + name + "' element " + i + " contains "
                  + (c == 0 ? "a NUL character" : "a character beyond U+FFFF (U+" + Integer.toHexString(s.codePointAt(k)).toUpperCase(java.util.Locale.ROOT) + ")")
                  + ", which ONNX Runtime's Java binding cannot pass to the model unchanged");
        }
      }
    }
  }

  private OnnxTensor toOrt(Tensor t) throws OrtException {
    long[] shape = t.shape();
    if (t.type() == ElementType.STRING) {
      return OnnxTensor.createTensor(env, t.strings().toArray(new String[0]), shape);
    }
    ByteBuffer source = t.buffer();
    ByteBuffer direct = ByteBuffer.allocateDirect(source.remaining()).order(ByteOrder.nativeOrder());
    if (LITTLE_ENDIAN || t.type().byteSize() == 1) {
      direct.put(source);
    } else {
      swapInto(t.type(), source, direct);
    }
    direct.flip();
    return OnnxTensor.createTensor(env, direct, shape, javaType(t.type()));
  }

  private NamedTensors fromOrt(OrtSession.Result result) throws OrtException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    long totalBytes = 0;
    for (Map.Entry<String, OnnxValue> e : result) {
      if (!(e.getValue() instanceof OnnxTensor ot)) {
        throw new InferenceException("output '" + e.getKey() + "' is not a tensor");
      }
      TensorInfo ti = ot.getInfo();
      ElementType type = OnnxRuntimeEngine.elementType(ti.onnxType);
      if (type == null) {
        throw new InferenceException("output '" + e.getKey() + "' has an element type Verity cannot carry");
      }
      long[] shape = ti.getShape();
      long count = ti.getNumElements();
      if (count > limits.maxElements()) {
        throw new InferenceException(
            "output '" + e.getKey() + "' has shape " + Arrays.toString(shape) + ", " + count
                + " elements, above the limit of " + limits.maxElements());
      }
      totalBytes += count * Math.max(1, type.byteSize());
      if (totalBytes > limits.maxTotalBytes()) {
        throw new InferenceException(
            "the model produced more than " + limits.maxTotalBytes() + " bytes of outputs");
      }
      out.put(e.getKey(), toTensor(ot, type, shape, count));
    }
    return NamedTensors.of(out);
  }

  private static Tensor toTensor(OnnxTensor ot, ElementType type, long[] shape, long count) throws OrtException {
    if (type == ElementType.STRING) {
      List<String> strings = new ArrayList<>((int) count);
      flatten(ot.getValue(), strings);
      return Tensor.ofStrings(shape, strings);
    }
    long bytes = count * type.byteSize();
    if (bytes == 0) {
      return Tensor.adoptBytes(type, shape, new byte[0]);
    }
    // A fresh heap copy in native order that nothing else refers to.
    ByteBuffer copy = ot.getByteBuffer();
    if (LITTLE_ENDIAN && copy.hasArray() && copy.arrayOffset() == 0 && copy.array().length == bytes) {
      return Tensor.adoptBytes(type, shape, copy.array());
    }
    ByteBuffer le = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (LITTLE_ENDIAN || type.byteSize() == 1) {
      le.put(copy.rewind());
    } else {
      swapInto(type, copy.order(ByteOrder.nativeOrder()), le);
    }
    return Tensor.adoptBytes(type, shape, le.array());
  }

  private static void flatten(Object value, List<String> into) {
    if (value instanceof String s) {
      into.add(s);
    } else if (value instanceof Object[] array) {
      for (Object o : array) {
        flatten(o, into);
      }
    } else {
      throw new InferenceException("string output holds " + (value == null ? "null" : value.getClass().getSimpleName()));
    }
  }

  /** Copies elements between buffers of different byte order. */
  private static void swapInto(ElementType type, ByteBuffer from, ByteBuffer to) {
    ByteBuffer src = from.duplicate().order(from.order());
    switch (type.byteSize()) {
      case 2 -> to.asShortBuffer().put(src.asShortBuffer());
      case 4 -> to.asIntBuffer().put(src.asIntBuffer());
      case 8 -> to.asLongBuffer().put(src.asLongBuffer());
      default -> to.put(src);
    }
    to.position(to.position() + src.remaining());
  }

  private static OnnxJavaType javaType(ElementType type) {
    return switch (type) {
      case FLOAT32 -> OnnxJavaType.FLOAT;
      case FLOAT64 -> OnnxJavaType.DOUBLE;
      case INT8 -> OnnxJavaType.INT8;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case BOOL -> OnnxJavaType.BOOL;
      case STRING -> OnnxJavaType.STRING;
    };
  }

  private synchronized void enter() {
    if (closed) {
      throw new IllegalStateException("this model has been closed; load it again to run it");
    }
    activeRuns++;
  }

  private void exit() {
    boolean release;
    synchronized (this) {
      activeRuns--;
      release = closed && activeRuns == 0 && !released;
      released |= release;
    }
    if (release) {
      releaseSession();
    }
  }

  @Override
  public void close() {
    boolean release;
    synchronized (this) {
      closed = true;
      release = activeRuns == 0 && !released;
      released |= release;
    }
    if (release) {
      releaseSession();
    }
  }

  private void releaseSession() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed to release a session: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "model on " + info + " " + signature;
  }
}
