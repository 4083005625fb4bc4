/**
 * The Verity ledger: accounts, stake, nodes, model versions, paid jobs, committed receipts and
 * challenges, ordered by one sequencer into signed blocks whose state roots a light client can
 * check.
 *
 * <ul>
 *   <li>{@link dev.verity.ledger.Ledger} is what the rest of Verity talks to; {@link
 *       dev.verity.ledger.SequencerLedger} implements it, durably ({@code open}) or in memory
 *       ({@code inMemory}).
 *   <li>{@link dev.verity.ledger.Transaction}, {@link dev.verity.ledger.Action} and {@link
 *       dev.verity.ledger.SignedTransaction} are what clients build, sign and submit.
 *   <li>{@link dev.verity.ledger.LedgerState} and {@link dev.verity.ledger.BlockExecution} are the
 *       deterministic state machine; {@link dev.verity.ledger.Chain} ties blocks together and
 *       replays them.
 *   <li>{@link dev.verity.ledger.StateProof}, {@link dev.verity.ledger.ReceiptProof}, {@link
 *       dev.verity.ledger.Equivocation} and {@link dev.verity.ledger.LightClient} are the evidence
 *       and its checks.
 *   <li>Optimistic jobs: {@link dev.verity.ledger.TraceCommitment} in receipt entries, {@link
 *       dev.verity.ledger.Sample} drawn from a later header, and the dispute game ({@link
 *       dev.verity.ledger.StateRecord.Dispute}) whose last step an injected {@link
 *       dev.verity.ledger.DisputeReferee} rules on.
 * </ul>
 *
 * Amounts are {@code long}s in the smallest unit; heights measure periods and windows, and the
 * block time recorded in each header measures dispute move deadlines.
 */
package dev.verity.ledger;
