package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.exec.Execution;
import dev.verity.protocol.tensor.NamedTensors;

/**
 * How a node computes what it commits to in mode {@code optimistic}: the canonical run of a model
 * (by its file's CID) on a request's inputs, with its trace. The node's own is {@link
 * CanonicalRuns#runTraced}; the node's tests substitute misbehaving ones to play cheating workers
 * over real HTTP.
 */
@FunctionalInterface
interface OptimisticEngine {
  Execution run(Cid model, NamedTensors inputs);
}
