package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.node.http.ApiException;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.zk.Blinding;
import dev.verity.zk.ModelProver;
import dev.verity.zk.OnnxCompiler;
import dev.verity.zk.Proof;
import dev.verity.zk.UnsupportedModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The node's side of mode {@code zk}: compiles each model's ONNX file once into a provable
 * network ({@link OnnxCompiler}) with its proving key, keeps it, and proves inferences with it. A
 * model that cannot be compiled is remembered as such and refused with 501, naming the reason (for
 * example the unsupported operator). Thread-safe.
 */
final class ZkProving {
  /** Engine name recorded in the provenance of zk receipts. */
  static final String ENGINE = "verity-zk";
  /** Its version: the proof format and the compiler's scale rules. */
  static final String ENGINE_VERSION = "proof-v" + Proof.VERSION + "/rules-v" + OnnxCompiler.RULES_VERSION;
  /** Larger model files are not compiled for proofs. */
  static final long MAX_MODEL_BYTES = 64L << 20;

  /** Compiled models kept (least recently used first out); a proving key holds the encoded weights. */
  static final int KEPT_MODELS = 16;

  private record Outcome(ModelProver prover, String refusal) {}

  private final ModelFiles files;
  private final Map<Cid, Outcome> provers = new LinkedHashMap<>(32, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Cid, Outcome> eldest) {
      return size() > KEPT_MODELS;
    }
  };

  ZkProving(ModelFiles files) {
    this.files = files;
  }

  /** The prover of a model, compiled on first use (two first requests at once may both compile). */
  ModelProver prover(ModelManifest m) {
    Outcome o;
    synchronized (provers) {
      o = provers.get(m.model());
    }
    if (o == null) {
      o = compile(m);
      synchronized (provers) {
        provers.putIfAbsent(m.model(), o);
      }
    }
    if (o.refusal() != null) {
      throw new ApiException(501, "mode-unavailable", "Mode not available",
          "model " + m.repositoryId() + "@" + m.version() + " cannot be proven in mode 'zk': " + o.refusal()
              + "; use mode 'receipt'");
    }
    return o.prover();
  }

  private Outcome compile(ModelManifest m) {
    if (m.modelSize() > MAX_MODEL_BYTES) {
      return new Outcome(null, "the model file has " + m.modelSize() + " bytes; zk proofs take models up to "
          + MAX_MODEL_BYTES + " bytes");
    }
    Path file;
    byte[] bytes;
    try {
      file = files.materialize(m.model());
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      // not remembered: the stored copy may be repaired
      throw new ApiException(503, "model-unavailable", "Model unavailable",
          "model " + m.model() + " cannot be loaded: this node's stored copy is damaged or incomplete", e);
    }
    try {
      return new Outcome(ModelProver.of(OnnxCompiler.compile(m.model(), bytes)), null);
    } catch (UnsupportedModelException e) {
      return new Outcome(null, e.getMessage());
    } catch (DecodingException e) {
      return new Outcome(null, "the ONNX file cannot be read: " + e.getMessage());
    }
  }

  /**
   * Proves one inference. 400 for inputs other than one example of the model's input, 422 when
   * the input drives an activation beyond the range the model was calibrated for.
   */
  ModelProver.Proved prove(ModelManifest m, NamedTensors inputs, Blinding blinding) {
    ModelProver prover = prover(m);
    try {
      return prover.prove(inputs, blinding);
    } catch (ArithmeticException e) {
      throw new ApiException(422, "zk-out-of-range", "Input outside the provable range",
          "this input drives an activation of " + m.repositoryId() + " beyond the 16-bit range of its quantized network"
              + " (the model's calibration ranges, with headroom, do not cover it); run it in mode 'receipt'");
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
  }
}
