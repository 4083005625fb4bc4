/**
 * Optimistic verification in the node: the ledger's dispute referee and the agent that plays a
 * dispute.
 *
 * <ul>
 *   <li>{@link dev.verity.node.optimistic.ExecReferee} implements {@link
 *       dev.verity.ledger.DisputeReferee} with the canonical executor over blobs from a {@link
 *       dev.verity.node.optimistic.BlobSource} (the hub): one operator recomputed per ruling.
 *   <li>{@link dev.verity.node.optimistic.DisputeAgent} plays the worker's or the challenger's side
 *       from a {@link dev.verity.node.optimistic.LocalTrace} (its own recomputation): bisects,
 *       opens the disputed step ({@link dev.verity.node.optimistic.StepProof}), times out a
 *       stalling party.
 * </ul>
 */
package dev.verity.node.optimistic;
