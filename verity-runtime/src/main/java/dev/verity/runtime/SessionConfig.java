package dev.verity.runtime;

import dev.verity.protocol.tensor.TensorLimits;
import java.util.Objects;

/**
 * How a model session is set up. Build with {@link #builder()}; {@link #defaults()} runs on the
 * CPU with the runtime's own thread counts, all graph optimisations, the memory arena on,
 * deterministic kernels and {@link TensorLimits#DEFAULT}.
 *
 * @param intraOpThreads threads used inside one operator; 0 lets the runtime choose
 * @param interOpThreads threads used to run independent operators in parallel; 0 lets the runtime
 *     choose (only used by the runtime's parallel execution mode)
 * @param optimization graph optimisation level applied when the model is loaded
 * @param executionProvider where the model should run
 * @param cpuFallback when {@link ExecutionProvider#CUDA} is asked for but this runtime cannot
 *     offer it: true runs on the CPU instead (and {@link EngineInfo} says so), false fails the
 *     load
 * @param memoryArena whether the runtime keeps freed CPU memory in an arena for reuse (faster,
 *     but the process keeps its peak memory)
 * @param deterministic asks the runtime for deterministic kernels where it has a choice
 * @param limits bounds on the tensors a model may declare and on the inputs and outputs of a run
 */
public record SessionConfig(
    int intraOpThreads,
    int interOpThreads,
    OptimizationLevel optimization,
    ExecutionProvider executionProvider,
    boolean cpuFallback,
    boolean memoryArena,
    boolean deterministic,
    TensorLimits limits) {

  /** Upper bound on configured thread counts, to catch typos such as 1000 threads. */
  public static final int MAX_THREADS = 256;

  /** Graph optimisation levels, as ONNX Runtime defines them. */
  public enum OptimizationLevel {
    /** No graph rewriting: the graph runs as written. */
    NONE,
    /** Semantics-preserving rewrites such as constant folding and redundant node removal. */
    BASIC,
    /** Adds fusions of common operator patterns. */
    EXTENDED,
    /** Everything, including layout changes. */
    ALL
  }

  public SessionConfig {
    if (intraOpThreads < 0 || intraOpThreads > MAX_THREADS) {
      throw new IllegalArgumentException("intraOpThreads must be 0 (runtime's choice) to " + MAX_THREADS + ", got " + intraOpThreads);
    }
    if (interOpThreads < 0 || interOpThreads > MAX_THREADS) {
      throw new IllegalArgumentException("interOpThreads must be 0 (runtime's choice) to " + MAX_THREADS + ", got " + interOpThreads);
    }
    Objects.requireNonNull(optimization, "optimization");
    Objects.requireNonNull(executionProvider, "executionProvider");
    Objects.requireNonNull(limits, "limits");
  }

  public static SessionConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.intraOpThreads = intraOpThreads;
    b.interOpThreads = interOpThreads;
    b.optimization = optimization;
    b.executionProvider = executionProvider;
    b.cpuFallback = cpuFallback;
    b.memoryArena = memoryArena;
    b.deterministic = deterministic;
    b.limits = limits;
    return b;
  }

  /** Collects settings; {@link #build()} validates them. */
  public static final class Builder {
    private int intraOpThreads;
    private int interOpThreads;
    private OptimizationLevel optimization = OptimizationLevel.ALL;
    private ExecutionProvider executionProvider = ExecutionProvider.CPU;
    private boolean cpuFallback;
    private boolean memoryArena = true;
    private boolean deterministic = true;
    private TensorLimits limits = TensorLimits.DEFAULT;

    private Builder() {}

    public Builder intraOpThreads(int n) {
      this.intraOpThreads = n;
      return this;
    }

    public Builder interOpThreads(int n) {
      this.interOpThreads = n;
      return this;
    }

    public Builder optimization(OptimizationLevel level) {
      this.optimization = level;
      return this;
    }

    public Builder executionProvider(ExecutionProvider provider) {
      this.executionProvider = provider;
      return this;
    }

    public Builder cpuFallback(boolean allowed) {
      this.cpuFallback = allowed;
      return this;
    }

    public Builder memoryArena(boolean on) {
      this.memoryArena = on;
      return this;
    }

    public Builder deterministic(boolean on) {
      this.deterministic = on;
      return this;
    }

    public Builder limits(TensorLimits limits) {
      this.limits = limits;
      return this;
    }

    public SessionConfig build() {
      return new SessionConfig(
          intraOpThreads, interOpThreads, optimization, executionProvider, cpuFallback, memoryArena, deterministic, limits);
    }
  }
}
