package dev.verity.node;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.NodeRole;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.TraceCommitment;
import dev.verity.node.http.ApiException;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.OptimisticEvidence;
import dev.verity.protocol.VerificationMode;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Charges for inference through ledger jobs. The price of one inference on this node is the
 * model's royalty (its price as registered on the ledger) plus the node's operator fee. A request
 * for a model whose price here is 0 runs without a job; any other request must name an open job
 * of its (signing) client, for this manifest, that this node may work on, escrowing at least the
 * price. A job pays for one inference: it is claimed before the model runs, so a second request
 * naming it gets 409, and it is settled (or failed and refunded) in the background by the {@link
 * Settler} after the {@link SettlementJournal} has recorded the outcome.
 */
final class JobPayments implements Payments {
  private static final System.Logger LOG = System.getLogger(JobPayments.class.getName());

  private final NodeLedger ledger;
  private final Set<Hash> claimed = ConcurrentHashMap.newKeySet();

  JobPayments(NodeLedger ledger) {
    this.ledger = ledger;
  }

  /** Marks a job as used by this node (a recovered settlement, or a request running now). */
  void claim(Hash job) {
    claimed.add(job);
  }

  /** Forgets a claim once the job is no longer open on the ledger. */
  void release(Hash job) {
    Optional<StateRecord.Job> j = ledger.view().job(job);
    if (j.isEmpty() || j.get().status() != StateRecord.Job.Status.OPEN) {
      claimed.remove(job);
    }
  }

  static ApiException paymentRequired(String detail) {
    return new ApiException(402, "payment-required", "Payment required", detail);
  }

  private String howToPay(ModelManifest m, long price) {
    return "open a job for manifest " + m.cid() + " escrowing at least " + price + " (worker " + ledger.address()
        + " or any) with an OpenJob transaction (POST /v1/ledger/transactions), then send its id as 'job' in a request"
        + " signed by the job's client";
  }

  @Override
  public Claim authorize(ModelManifest m, Optional<Address> caller, Optional<Hash> jobId) {
    LedgerView latest = ledger.view();
    if (jobId.isPresent() && latest.job(jobId.get()).isEmpty()) {
      latest = ledger.freshView(); // opened a moment ago through another node: catch up with the sequencer
    }
    LedgerView v = latest;
    Optional<StateRecord.Model> registered = v.model(m.cid());
    long royalty = registered.map(StateRecord.Model::pricePerInference).orElse(m.price());
    long fee = ledger.operatorFee();
    long price = royalty + fee;
    String name = m.repositoryId() + "@" + m.version();
    String priceText = price + " per inference on this node (" + royalty + " royalty to the owner + " + fee + " operator fee)";
    if (jobId.isEmpty() && price == 0) {
      return Claim.FREE;
    }
    if (!ledger.roles().contains(NodeRole.WORKER)) {
      throw new ApiException(409, "not-a-worker", "Not a worker",
          name + " costs " + priceText + ", and this node (roles " + dev.verity.node.net.NetworkSettings.labels(
              ledger.roles()) + ") runs no paid inference: send the request to a worker that serves " + m.cid()
              + " (GET /v1/network/peers lists them)");
    }
    if (registered.isEmpty()) {
      throw paymentRequired(name + " costs " + priceText + " but manifest " + m.cid() + " is not registered on this"
          + " node's ledger, so it cannot be paid for yet; its owner " + m.ownerAddress() + " must register it first"
          + " (RegisterModel, POST /v1/ledger/transactions)");
    }
    if (jobId.isEmpty()) {
      throw paymentRequired(name + " costs " + priceText + "; " + howToPay(m, price));
    }
    Hash id = jobId.get();
    StateRecord.Job job = v.job(id).orElseThrow(() -> paymentRequired("there is no job " + id + " on the ledger (as of"
        + " block " + v.height() + "); " + howToPay(m, price)));
    if (claimed.contains(id) || job.status() != StateRecord.Job.Status.OPEN) {
      throw ApiException.conflict("job " + id + " is " + (job.status() == StateRecord.Job.Status.OPEN
          ? "being used by another request" : job.status().name().toLowerCase(java.util.Locale.ROOT))
          + "; a job pays for one inference: open a new one");
    }
    if (caller.isEmpty()) {
      throw ApiException.unauthorized("a request naming a job must be signed by the job's client " + job.client()
          + " (Authorization: Verity-Ed25519 ...)");
    }
    if (!caller.get().equals(job.client())) {
      throw paymentRequired("job " + id + " belongs to client " + job.client() + ", not to the caller " + caller.get()
          + "; " + howToPay(m, price));
    }
    if (!job.model().equals(m.cid())) {
      throw paymentRequired("job " + id + " is for manifest " + job.model() + ", not for " + m.cid() + " (" + name + "); "
          + howToPay(m, price));
    }
    if (job.worker().isPresent() && !job.worker().get().equals(ledger.address())) {
      throw paymentRequired("job " + id + " names worker " + job.worker().get() + "; this node is " + ledger.address()
          + ". Send the request to that node, or " + howToPay(m, price));
    }
    if (job.worker().isEmpty() && !servesOnLedger(v, m)) {
      ledger.requestRegistration();
      throw new ApiException(503, "not-registered", "Worker not registered yet",
          "this node is not yet registered on the ledger as a worker for " + m.cid() + ", so it could not settle job "
              + id + "; it is registering now: retry in a few seconds");
    }
    if (v.height() >= job.expiresHeight()) {
      throw paymentRequired("job " + id + " expired at block " + job.expiresHeight() + " (now " + v.height()
          + "); its client can reclaim the escrow with FailJob. " + howToPay(m, price));
    }
    long due = job.modelPrice() + fee;
    if (job.escrow() < due) {
      throw paymentRequired("job " + id + " escrows " + job.escrow() + " but " + name + " costs " + due
          + " per inference on this node (" + job.modelPrice() + " royalty + " + fee + " operator fee); "
          + howToPay(m, due));
    }
    if (!claimed.add(id)) {
      throw ApiException.conflict("job " + id + " is being used by another request; a job pays for one inference");
    }
    // A claim is released only once the ledger shows the job closed, so a fresh read after claiming
    // sees any settlement that completed since the view above was taken.
    Optional<StateRecord.Job> now = ledger.view().job(id);
    if (now.isEmpty() || now.get().status() != StateRecord.Job.Status.OPEN) {
      claimed.remove(id);
      throw ApiException.conflict("job " + id + " was used already; a job pays for one inference: open a new one");
    }
    return new JobClaim(id, job.escrow());
  }

  private boolean servesOnLedger(LedgerView v, ModelManifest m) {
    Optional<StateRecord.Node> n = v.node(ledger.address());
    return n.isPresent() && n.get().roles().contains(NodeRole.WORKER) && n.get().serves(m.cid());
  }

  /** A job claimed for one running request. */
  private final class JobClaim implements Claim {
    private final Hash job;
    private final long escrow;

    JobClaim(Hash job, long escrow) {
      this.job = job;
      this.escrow = escrow;
    }

    @Override
    public Optional<Hash> job() {
      return Optional.of(job);
    }

    @Override
    public void completed(InferenceReceipt receipt) {
      Optional<TraceCommitment> trace = traceOf(receipt);
      try {
        ledger.journal().paid(job, receipt.cid(), trace);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "could not journal the settlement of job " + job + "; it is settled from"
            + " memory and lost if the node stops before the ledger commits it", e);
      }
      ledger.settler().submit(new SettlementJournal.Owed(job, Optional.of(receipt.cid()), trace));
    }

    @Override
    public void failed() {
      try {
        ledger.journal().failed(job);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "could not journal the failure of job " + job + "; its client can reclaim"
            + " the escrow after the job expires if the node stops before the ledger commits it", e);
      }
      ledger.settler().submit(new SettlementJournal.Owed(job, Optional.empty()));
    }

    /** An optimistic receipt's trace commitment: its evidence with its inputs and outputs CIDs. */
    private static Optional<TraceCommitment> traceOf(InferenceReceipt receipt) {
      if (receipt.mode() != VerificationMode.OPTIMISTIC) {
        return Optional.empty();
      }
      OptimisticEvidence e = OptimisticEvidence.fromCbor(receipt.evidence());
      return Optional.of(new TraceCommitment(e.trace(), e.steps(), receipt.inputs(), receipt.outputs()));
    }

    @Override
    public String failureNote() {
      return "; job " + job + " is being failed and its escrow of " + escrow + " refunded to the client";
    }
  }
}
