package dev.verity.ledger;

import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.PublicKey;
import java.util.Objects;
import java.util.Optional;

/**
 * What a client that trusts only the sequencer's public key can check, from headers and proofs a
 * node hands it. Every method returns the proven value or throws {@link VerificationException}
 * naming what failed. Thread-safe. It remembers the last few thousand headers whose signature it
 * checked, so proofs under the same header cost only their hashes.
 *
 * <p>Typical use after an inference: {@link #verifyReceipt} on the receipt's inclusion proof, then
 * {@link #verifyJobPaid} on the job's state proof against the latest header, showing the job the
 * receipt belongs to was settled (paid) and not invalidated.
 */
public final class LightClient {
  private static final int REMEMBERED_HEADERS = 4_096;
  private final String chainId;
  private final PublicKey sequencer;
  private final java.util.Set<BlockHeader> verified = java.util.concurrent.ConcurrentHashMap.newKeySet();

  public LightClient(String chainId, PublicKey sequencer) {
    this.chainId = Objects.requireNonNull(chainId);
    this.sequencer = Objects.requireNonNull(sequencer);
  }

  public static LightClient of(GenesisConfig genesis) {
    return new LightClient(genesis.chainId(), genesis.sequencer());
  }

  /**
   * Checks that the sequencer signed {@code header} for this chain.
   *
   * @throws VerificationException if not
   */
  public void verifyHeader(BlockHeader header) throws VerificationException {
    if (!header.chainId().equals(chainId)) {
      throw new VerificationException("header is for chain '" + header.chainId() + "', not '" + chainId + "'");
    }
    if (verified.contains(header)) {
      return;
    }
    header.verifySignature(sequencer);
    if (verified.size() >= REMEMBERED_HEADERS) {
      verified.clear();
    }
    verified.add(header);
  }

  /**
   * Checks that the receipt in {@code proof} was committed in the proof's (signed) block.
   *
   * @return the receipt entry (receipt CID and job id)
   */
  public Action.CommitReceipts.Entry verifyReceipt(ReceiptProof proof) throws VerificationException {
    verifyHeader(proof.header());
    proof.verifyInclusion();
    return proof.entry();
  }

  /**
   * Checks a state proof against a signed header and returns the proven entry (empty for a proof
   * of absence).
   */
  public <T extends StateRecord> Optional<T> verifyEntry(
      BlockHeader header, StateKey key, StateProof proof, Class<T> type) throws VerificationException {
    verifyHeader(header);
    if (!proof.key().equals(key)) {
      throw new VerificationException("proof is for " + proof.key() + ", not " + key);
    }
    proof.verify(header.stateRoot());
    try {
      return proof.valueAs(type);
    } catch (ClassCastException e) {
      throw new VerificationException("proven entry for " + key + " is not a " + type.getSimpleName(), e);
    }
  }

  /** The proven account of {@code address} (empty account if it does not exist). */
  public StateRecord.Account verifyAccount(BlockHeader header, Address address, StateProof proof)
      throws VerificationException {
    return verifyEntry(header, StateKey.account(address), proof, StateRecord.Account.class)
        .orElse(StateRecord.Account.EMPTY);
  }

  /** The proven stake of {@code address} (nothing staked if it does not exist). */
  public StateRecord.Stake verifyStake(BlockHeader header, Address address, StateProof proof)
      throws VerificationException {
    return verifyEntry(header, StateKey.stake(address), proof, StateRecord.Stake.class)
        .orElse(StateRecord.Stake.EMPTY);
  }

  /**
   * Checks a receipt's inclusion and that, as of {@code header}, the job it belongs to has been
   * settled and paid (status {@code SETTLED}, or {@code CHALLENGED} while a challenge is open).
   *
   * @return the proven job
   * @throws VerificationException if any proof fails, the job does not exist or was not paid
   */
  public StateRecord.Job verifyJobPaid(ReceiptProof receipt, BlockHeader header, StateProof jobProof)
      throws VerificationException {
    Action.CommitReceipts.Entry entry = verifyReceipt(receipt);
    if (header.height() < receipt.header().height()) {
      throw new VerificationException("state header " + header.height()
          + " is older than the receipt's block " + receipt.header().height());
    }
    StateRecord.Job job = verifyEntry(header, StateKey.job(entry.job()), jobProof, StateRecord.Job.class)
        .orElseThrow(() -> new VerificationException("job " + entry.job() + " does not exist"));
    if (job.status() != StateRecord.Job.Status.SETTLED && job.status() != StateRecord.Job.Status.CHALLENGED
        && job.status() != StateRecord.Job.Status.FINAL) {
      throw new VerificationException("job " + job.id() + " is " + job.status().label()
          + (job.status() == StateRecord.Job.Status.INVALID
              ? ": its result was proven wrong and its worker slashed" : ", not settled"));
    }
    return job;
  }

  /**
   * Checks a receipt's inclusion and proves the status of the job it belongs to as of {@code
   * header}, whatever it is: the caller decides, e.g. {@code INVALID} (the result was proven wrong
   * in a dispute or the job was a revealed planted job), {@code FINAL} (the challenge window passed
   * with no successful challenge), {@code SETTLED} or {@code CHALLENGED} (still open to disputes).
   *
   * @return the proven job
   * @throws VerificationException if a proof fails, the header is older than the receipt's block or
   *     the job does not exist
   */
  public StateRecord.Job verifyJobStatus(ReceiptProof receipt, BlockHeader header, StateProof jobProof)
      throws VerificationException {
    Action.CommitReceipts.Entry entry = verifyReceipt(receipt);
    if (header.height() < receipt.header().height()) {
      throw new VerificationException("state header " + header.height()
          + " is older than the receipt's block " + receipt.header().height());
    }
    return verifyEntry(header, StateKey.job(entry.job()), jobProof, StateRecord.Job.class)
        .orElseThrow(() -> new VerificationException("job " + entry.job() + " does not exist"));
  }

  /** The proven dispute {@code id} (empty for a proof of absence). */
  public Optional<StateRecord.Dispute> verifyDispute(BlockHeader header, dev.verity.core.Hash id, StateProof proof)
      throws VerificationException {
    return verifyEntry(header, StateKey.dispute(id), proof, StateRecord.Dispute.class);
  }

  /** Checks equivocation evidence against this chain's sequencer. */
  public void verifyEquivocation(Equivocation evidence) throws VerificationException {
    if (!evidence.first().chainId().equals(chainId)) {
      throw new VerificationException("evidence is for another chain");
    }
    evidence.verify(sequencer);
  }
}
