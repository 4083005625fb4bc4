package dev.verity.runtime;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.verity.core.DecodingException;
import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Runs ONNX models with ONNX Runtime (the CPU build by default).
 *
 * <p>Every model is first walked by a structural pre-check that refuses malformed protobuf,
 * external-data references and tensors declaring more elements than the file can hold, so hostile
 * files end in {@link ModelLoadException} before the runtime allocates anything for them. The
 * runtime then loads the file itself (from its path, or from memory) with the options of the
 * {@link SessionConfig}. CUDA is used only when the configuration asks for it and this ONNX
 * Runtime build offers it; otherwise the load fails, or runs on the CPU when {@link
 * SessionConfig#cpuFallback()} allows it, and {@link EngineInfo#executionProvider()} tells which.
 *
 * <p>ONNX Runtime keeps one environment per process; this engine uses it (creating it at error
 * log level if nobody has yet) and never closes it, so several engines can coexist.
 */
public final class OnnxRuntimeEngine implements InferenceEngine {
  public static final String NAME = "onnxruntime";

  private static final Pattern SYMBOL = Pattern.compile("[A-Za-z0-9_.:\\-]{1,64}");

  private final OrtEnvironment env;

  private OnnxRuntimeEngine(OrtEnvironment env) {
    this.env = env;
  }

  /** An engine over the process's ONNX Runtime environment. */
  public static OnnxRuntimeEngine create() {
    return new OnnxRuntimeEngine(OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "verity"));
  }

  /** The execution providers this ONNX Runtime build can use on this machine. */
  public static Set<ExecutionProvider> availableProviders() {
    EnumSet<OrtProvider> ort = OrtEnvironment.getAvailableProviders();
    EnumSet<ExecutionProvider> out = EnumSet.of(ExecutionProvider.CPU);
    if (ort.contains(OrtProvider.CUDA)) {
      out.add(ExecutionProvider.CUDA);
    }
    return out;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String version() {
    return env.getVersion();
  }

  @Override
  public LoadedModel load(ModelSource source, SessionConfig config) {
    long size = source.sizeBytes();
    if (size > ModelPrecheck.MAX_MODEL_BYTES) {
      throw new ModelLoadException(
          "cannot load " + source.describe() + ": it has " + size + " bytes, above the 2 GiB limit of ONNX files");
    }
    precheck(source);
    ExecutionProvider provider = chooseProvider(config);
    OrtSession session;
    try {
      session = createSession(source, config, provider);
    } catch (OrtException | RuntimeException e) {
      if (provider == ExecutionProvider.CUDA && config.cpuFallback()) {
        provider = ExecutionProvider.CPU;
        try {
          session = createSession(source, config, provider);
        } catch (OrtException | RuntimeException e2) {
          throw refused(source, e2);
        }
      } else {
        throw refused(source, e);
      }
    }
    try {
      ModelSignature signature = new ModelSignature(specs(session.getInputInfo(), "input"), specs(session.getOutputInfo(), "output"));
      signature.checkDeclaredSizes(config.limits());
      EngineInfo info = new EngineInfo(NAME, version(), provider);
      return new OnnxRuntimeModel(env, session, signature, info, config.limits());
    } catch (OrtException | RuntimeException e) {
      closeQuietly(session);
      if (e instanceof ModelLoadException m) {
        throw new ModelLoadException("cannot load " + source.describe() + ": " + m.getMessage(), m);
      }
      throw refused(source, e);
    }
  }

  private static void precheck(ModelSource source) {
    switch (source) {
      case ModelSource.BytesSource b -> ModelPrecheck.check(ByteBuffer.wrap(b.sharedBytes()), source.describe());
      case ModelSource.FileSource f -> {
        try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ)) {
          MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
          ModelPrecheck.check(mapped, source.describe());
        } catch (IOException e) {
          throw new ModelLoadException("cannot read " + source.describe() + ": " + e.getMessage(), e);
        } catch (InternalError e) {
          // The file shrank while it was being read.
          throw new ModelLoadException("cannot read " + source.describe() + ": it changed while being read", e);
        }
      }
    }
  }

  private static ExecutionProvider chooseProvider(SessionConfig config) {
    if (config.executionProvider() == ExecutionProvider.CPU) {
      return ExecutionProvider.CPU;
    }
    if (availableProviders().contains(ExecutionProvider.CUDA)) {
      return ExecutionProvider.CUDA;
    }
    if (config.cpuFallback()) {
      return ExecutionProvider.CPU;
    }
    throw new ModelLoadException(
        "execution provider cuda was requested but this ONNX Runtime build offers only "
            + OrtEnvironment.getAvailableProviders()
            + "; put the onnxruntime_gpu artifact and the CUDA libraries it needs on the class path,"
            + " ask for cpu, or allow cpuFallback");
  }

  private OrtSession createSession(ModelSource source, SessionConfig config, ExecutionProvider provider)
      throws OrtException {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
      if (config.intraOpThreads() > 0) {
        options.setIntraOpNumThreads(config.intraOpThreads());
      }
      if (config.interOpThreads() > 0) {
        options.setInterOpNumThreads(config.interOpThreads());
      }
      options.setOptimizationLevel(
          switch (config.optimization()) {
            case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
            case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
            case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
            case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
          });
      options.setCPUArenaAllocator(config.memoryArena());
      options.setDeterministicCompute(config.deterministic());
      if (provider == ExecutionProvider.CUDA) {
        options.addCUDA(0);
      }
      return switch (source) {
        case ModelSource.FileSource f -> env.createSession(f.path().toString(), options);
        case ModelSource.BytesSource b -> env.createSession(b.sharedBytes(), options);
      };
    }
  }

  private static List<TensorSpec> specs(Map<String, NodeInfo> infos, String what) {
    List<TensorSpec> out = new ArrayList<>();
    for (NodeInfo node : infos.values()) {
      out.add(spec(node.getName(), node.getInfo(), what));
    }
    return out;
  }

  static TensorSpec spec(String name, ValueInfo info, String what) {
    if (!(info instanceof TensorInfo t)) {
      String kind = info instanceof SequenceInfo ? "a sequence" : info instanceof MapInfo ? "a map" : "not a tensor";
      throw new ModelLoadException(
          what + " '" + name + "' is " + kind + "; Verity runs models whose inputs and outputs are all tensors");
    }
    ElementType type = elementType(t.onnxType);
    if (type == null) {
      throw new ModelLoadException(
          what + " '" + name + "' has element type " + t.onnxType.name().replace("ONNX_TENSOR_ELEMENT_DATA_TYPE_", "").toLowerCase(java.util.Locale.ROOT)
              + ", which Verity tensors cannot carry (supported: float32, float64, int8, uint8, int16, int32, int64, bool, string)");
    }
    long[] shape = t.getShape();
    String[] names = t.getDimensionNames();
    List<Dim> dims = new ArrayList<>(shape.length);
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] >= 0) {
        dims.add(Dim.fixed(shape[i]));
      } else {
        String symbol = names != null && i < names.length && names[i] != null ? names[i] : "";
        dims.add(Dim.dynamic(SYMBOL.matcher(symbol).matches() ? symbol : ""));
      }
    }
    try {
      return new TensorSpec(name, type, dims);
    } catch (DecodingException e) {
      throw new ModelLoadException(what + " '" + name + "' cannot be described: " + e.getMessage());
    }
  }

  /** The Verity element type for an ONNX Runtime tensor type, or null if Verity has none. */
  static ElementType elementType(TensorInfo.OnnxTensorType t) {
    return switch (t) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> ElementType.FLOAT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> ElementType.FLOAT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> ElementType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> ElementType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> ElementType.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> ElementType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> ElementType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> ElementType.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> ElementType.STRING;
      default -> null;
    };
  }

  private static ModelLoadException refused(ModelSource source, Exception e) {
    return new ModelLoadException(
        "cannot load " + source.describe() + ": ONNX Runtime refused it: " + e.getMessage(), e);
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException ignored) {
      // The session is being discarded because of an earlier error, which is what gets reported.
    }
  }

  /** The process-wide ONNX Runtime environment is shared and stays open; nothing else to release. */
  @Override
  public void close() {}
}
