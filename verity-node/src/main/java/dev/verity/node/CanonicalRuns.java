package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.exec.CanonicalExecutor;
import dev.verity.exec.Execution;
import dev.verity.exec.ExecutionException;
import dev.verity.exec.UnsupportedOperatorException;
import dev.verity.node.http.ApiException;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's side of mode {@code optimistic}: one {@link CanonicalExecutor} per model (read from the
 * node's verified copy of the model file on first use, kept like ONNX Runtime sessions, at most
 * {@link #KEPT_MODELS}, least recently used out), run with the configured number of threads, which
 * never changes a result bit. A model outside the canonical operator set is remembered as such and
 * refused with 501 naming its operators. Used for the worker's runs and for a verifier's
 * recomputations alike. Thread-safe; an executor evicted while in use is closed when its last run
 * ends.
 */
public final class CanonicalRuns implements AutoCloseable {
  /** Engine name recorded in the provenance of optimistic receipts. */
  public static final String ENGINE = "verity-exec";
  /** Its version: the arithmetic and trace rules of docs/EXECUTOR.md. */
  public static final String ENGINE_VERSION = "canonical-v1";
  /** Executors kept at once. */
  static final int KEPT_MODELS = 16;
  /** Larger model files are not run canonically (the executor holds the whole model in memory). */
  public static final long MAX_MODEL_BYTES = 1L << 30;

  private static final class Slot {
    final CanonicalExecutor executor;
    final String refusal;
    int users;
    boolean evicted;

    Slot(CanonicalExecutor executor, String refusal) {
      this.executor = executor;
      this.refusal = refusal;
    }
  }

  private final ModelFiles files;
  private final int threads;
  private final Object lock = new Object();
  private boolean closed;
  private final Map<Cid, Slot> slots = new LinkedHashMap<>(32, 0.75f, true);

  CanonicalRuns(ModelFiles files, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("optimistic.threads must be at least 1, got " + threads);
    }
    this.files = files;
    this.threads = threads;
  }

  /**
   * Checks that the canonical executor can run the model in {@code bytes} (at publish time).
   *
   * @throws ApiException 400 naming every operator outside the canonical set, or why the file
   *     cannot be read
   */
  static void checkSupported(byte[] bytes) {
    try {
      CanonicalExecutor.checkSupported(OnnxReader.read(bytes));
    } catch (UnsupportedOperatorException e) {
      throw ApiException.badRequest("mode 'optimistic' needs a model the canonical executor runs bit for bit: "
          + e.getMessage() + "; remove 'optimistic' from the manifest's modes, or use only the operators of docs/EXECUTOR.md");
    } catch (DecodingException | ExecutionException e) {
      throw ApiException.badRequest("mode 'optimistic' cannot run this model: " + e.getMessage());
    }
  }

  /** Whether the canonical executor runs {@code model} (loading it if needed). */
  boolean supports(Cid model) {
    try {
      release(acquire(model));
      return true;
    } catch (ApiException e) {
      return false;
    }
  }

  /**
   * Runs {@code model} canonically on {@code inputs} and records the trace.
   *
   * @throws ApiException 501 when the model is outside the operator set, 400 for inputs the
   *     executor refuses, 503 when the node's copy of the model is damaged
   */
  public Execution runTraced(Cid model, NamedTensors inputs) {
    Slot s = acquire(model);
    try {
      return s.executor.runTraced(inputs);
    } catch (ExecutionException e) {
      throw ApiException.badRequest("the canonical executor refuses these inputs: " + e.getMessage());
    } finally {
      release(s);
    }
  }

  /** The parsed model, for a referee or a verifier that opens steps. */
  public OnnxModel model(Cid model) {
    Slot s = acquire(model);
    try {
      return s.executor.model();
    } finally {
      release(s);
    }
  }

  private Slot acquire(Cid model) {
    Slot s;
    synchronized (lock) {
      if (closed) {
        throw new ApiException(503, "shutting-down", "Shutting down", "the node is stopping");
      }
      s = slots.get(model);
      if (s != null && s.refusal == null) {
        s.users++;
      }
    }
    if (s == null) {
      Slot loaded = load(model);
      List<Slot> out = new ArrayList<>();
      synchronized (lock) {
        s = slots.get(model);
        if (s == null) {
          s = loaded;
          slots.put(model, s);
          var it = slots.values().iterator();
          while (slots.size() > KEPT_MODELS && it.hasNext()) {
            Slot old = it.next();
            it.remove();
            old.evicted = true;
            if (old.users == 0 && old.executor != null) {
              out.add(old);
            }
          }
        } else if (loaded.executor != null) {
          out.add(loaded);
        }
        if (s.refusal == null) {
          s.users++;
        }
      }
      out.forEach(o -> o.executor.close());
    }
    if (s.refusal != null) {
      throw new ApiException(501, "mode-unavailable", "Mode not available",
          "model " + model + " cannot run in mode 'optimistic': " + s.refusal + "; use mode 'receipt'");
    }
    return s;
  }

  private void release(Slot s) {
    boolean close;
    synchronized (lock) {
      s.users--;
      close = s.evicted && s.users == 0;
    }
    if (close) {
      s.executor.close();
    }
  }

  private Slot load(Cid model) {
    try {
      if (Files.size(files.materialize(model)) > MAX_MODEL_BYTES) {
        return new Slot(null, "the model file is larger than " + MAX_MODEL_BYTES + " bytes, the canonical executor's limit");
      }
    } catch (IOException e) {
      throw new ApiException(503, "model-unavailable", "Model unavailable",
          "model " + model + " cannot be loaded: this node's stored copy is damaged or incomplete", e);
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(files.materialize(model));
    } catch (IOException e) {
      // not remembered: the stored copy may be repaired
      throw new ApiException(503, "model-unavailable", "Model unavailable",
          "model " + model + " cannot be loaded: this node's stored copy is damaged or incomplete", e);
    }
    try {
      return new Slot(CanonicalExecutor.create(OnnxReader.read(bytes), threads), null);
    } catch (UnsupportedOperatorException e) {
      return new Slot(null, e.getMessage());
    } catch (DecodingException | ExecutionException e) {
      return new Slot(null, "the canonical executor cannot run it: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    List<Slot> idle = new ArrayList<>();
    synchronized (lock) {
      closed = true;
      for (Slot s : slots.values()) {
        s.evicted = true;
        if (s.executor != null && s.users == 0) {
          idle.add(s);
        }
      }
      slots.clear();
    }
    idle.forEach(s -> s.executor.close());
  }
}
