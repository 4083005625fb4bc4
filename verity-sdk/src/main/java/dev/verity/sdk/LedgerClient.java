package dev.verity.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.Action;
import dev.verity.ledger.Block;
import dev.verity.ledger.BlockHeader;
import dev.verity.ledger.Committed;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.LightClient;
import dev.verity.ledger.ReceiptProof;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.StateKey;
import dev.verity.ledger.StateProof;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.TraceCommitment;
import dev.verity.ledger.Transaction;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.OptimisticEvidence;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The ledger of a Verity node, as a client sees it. Reads that return a proven value ({@link
 * #account}, {@link #job}, {@link #node}, {@link #head}, {@link #block}) check the node's proofs
 * with a {@link LightClient} against the sequencer key: the one pinned with {@link
 * VerityClient.Builder#sequencer}, or else the one named by the genesis the node serves at first
 * contact (trust on first use, like the node key). Transactions are signed with the client's key.
 *
 * <p>Paying for inference: {@link #inferPaid} asks the node for the price, opens a job escrowing it
 * and runs the inference with that job. {@link #verifyOnLedger} then shows, from proofs only, that
 * the receipt was committed and the job it names was settled by the node that signed it.
 *
 * <p>Thread-safe; transactions of one client are sent one at a time, in nonce order.
 */
public final class LedgerClient {
  private static final Base64.Decoder B64 = Base64.getDecoder();

  private final VerityClient client;
  private final Optional<Signer> signer;
  private final Optional<PublicKey> pinned;
  private volatile GenesisConfig genesis;
  private volatile LightClient light;

  LedgerClient(VerityClient client, Optional<Signer> signer, Optional<PublicKey> pinnedSequencer) {
    this.client = client;
    this.signer = signer;
    this.pinned = pinnedSequencer;
  }

  /** What the node says about its ledger: chain, sequencer, its worker address and fee, height. */
  public record LedgerInfo(String chainId, PublicKey sequencer, Address operator, long operatorFee, long height,
      int receiptBatch, long receiptBatchMillis) {}

  /** An account's balance and nonce and its stake, as of {@code header} (proven when {@code proven}). */
  public record AccountState(Address address, StateRecord.Account account, StateRecord.Stake stake, long height,
      Optional<BlockHeader> header) {
    public boolean proven() {
      return header.isPresent();
    }
  }

  /** A job proven against a signed header. */
  public record ProvenJob(StateRecord.Job job, BlockHeader header) {}

  /**
   * What one inference costs on this node: the model's royalty plus the node's operator fee, and
   * the node's worker address to open the job for.
   */
  public record Quote(Cid manifest, Address owner, long royalty, long operatorFee, long price, Address worker) {}

  /**
   * What {@link #verifyOnLedger} proved: the receipt's inclusion proof (with its block's signed
   * header), the job as of {@code header}.
   */
  public record LedgerEvidence(ReceiptProof receiptProof, BlockHeader header, StateRecord.Job job) {
    /** The block the receipt was committed in. */
    public long receiptBlock() {
      return receiptProof.header().height();
    }
  }

  // ---- trust ----

  public LedgerInfo info() throws IOException {
    JsonNode n = client.getJson("/v1/ledger");
    return new LedgerInfo(n.path("chain_id").asText(), PublicKey.parse(n.path("sequencer").asText()),
        Address.parse(n.path("operator").asText()), n.path("operator_fee").asLong(), n.path("height").asLong(),
        n.path("receipt_batch").asInt(), n.path("receipt_batch_millis").asLong());
  }

  /**
   * The genesis the node serves, checked against its hash and, when a sequencer key is pinned,
   * against that key.
   */
  public GenesisConfig genesis() throws IOException, VerificationException {
    GenesisConfig g = genesis;
    if (g != null) {
      return g;
    }
    JsonNode n = client.getJson("/v1/ledger/genesis");
    try {
      g = GenesisConfig.decode(B64.decode(n.path("genesis").asText()));
    } catch (IllegalArgumentException e) { // DecodingException, or bad base64
      throw new VerificationException("node sent a malformed genesis: " + e.getMessage(), e);
    }
    if (pinned.isPresent() && !pinned.get().equals(g.sequencer())) {
      throw new VerificationException("the node's ledger is sequenced by " + g.sequencer() + ", not by the pinned key "
          + pinned.get());
    }
    genesis = g;
    return g;
  }

  /** The light client this ledger client checks proofs with. */
  public LightClient lightClient() throws IOException, VerificationException {
    LightClient lc = light;
    if (lc == null) {
      GenesisConfig g = genesis();
      lc = new LightClient(g.chainId(), pinned.orElse(g.sequencer()));
      light = lc;
    }
    return lc;
  }

  // ---- reads ----

  /** The latest header, its signature checked. */
  public BlockHeader head() throws IOException, VerificationException {
    BlockHeader h = header(client.getJson("/v1/ledger/head").path("header").asText());
    lightClient().verifyHeader(h);
    return h;
  }

  /** Block {@code height}, its header signature and transaction and receipt roots checked. */
  public Block block(long height) throws IOException, VerificationException {
    JsonNode n = client.getJson("/v1/ledger/blocks/" + height);
    Block b;
    try {
      b = Block.decode(B64.decode(n.path("block").asText()));
    } catch (IllegalArgumentException e) { // DecodingException, or bad base64
      throw new VerificationException("node sent a malformed block: " + e.getMessage(), e);
    }
    lightClient().verifyHeader(b.header());
    b.verify(b.header().sequencer());
    if (b.height() != height) {
      throw new VerificationException("asked for block " + height + ", got block " + b.height());
    }
    return b;
  }

  /** Blocks {@code from} .. at most {@code from + count - 1} (fewer near the head), each checked. */
  public List<Block> blocks(long from, int count) throws IOException, VerificationException {
    long head = head().height();
    List<Block> out = new ArrayList<>();
    for (long h = Math.max(0, from); h <= head && out.size() < count; h++) {
      out.add(block(h));
    }
    return out;
  }

  /**
   * An account's balance, nonce and stake. With {@code prove}, both entries are proven against the
   * signed head; without, they are what the node reports.
   */
  public AccountState account(Address a, boolean prove) throws IOException, VerificationException {
    JsonNode n = client.getJson("/v1/ledger/accounts/" + a + (prove ? "?prove=true" : ""));
    if (!prove) {
      JsonNode st = n.path("stake");
      return new AccountState(a, new StateRecord.Account(n.path("balance").asLong(), n.path("nonce").asLong()),
          new StateRecord.Stake(st.path("bonded").asLong(), st.path("unbonding").asLong(), st.path("release_height").asLong()),
          n.path("height").asLong(), Optional.empty());
    }
    BlockHeader h = header(n.path("header").asText());
    LightClient lc = lightClient();
    StateRecord.Account acc = lc.verifyAccount(h, a, proof(n.path("proofs").path("account").asText()));
    StateRecord.Stake stake = lc.verifyStake(h, a, proof(n.path("proofs").path("stake").asText()));
    return new AccountState(a, acc, stake, h.height(), Optional.of(h));
  }

  /** A job, proven against the signed head. */
  public ProvenJob job(Hash id) throws IOException, VerificationException {
    JsonNode n = client.getJson("/v1/ledger/jobs/" + id.toHex() + "?prove=true");
    BlockHeader h = header(n.path("header").asText());
    StateRecord.Job job = lightClient().verifyEntry(h, StateKey.job(id), proof(n.path("proof").asText()),
        StateRecord.Job.class).orElseThrow(() -> new VerificationException("the node's proof shows no job " + id));
    return new ProvenJob(job, h);
  }

  /** The registered node of {@code operator}, proven; empty if none is registered. */
  public Optional<StateRecord.Node> node(Address operator) throws IOException, VerificationException {
    JsonNode n;
    try {
      n = client.getJson("/v1/ledger/nodes/" + operator + "?prove=true");
    } catch (VerityApiException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
    return lightClient().verifyEntry(header(n.path("header").asText()), StateKey.node(operator),
        proof(n.path("proof").asText()), StateRecord.Node.class);
  }

  /**
   * What one inference of {@code manifest} costs on this node; empty when the manifest is not
   * registered on the ledger (then it cannot be paid for; a model without a price runs free).
   */
  public Optional<Quote> quote(Cid manifest) throws IOException {
    JsonNode n;
    try {
      n = client.getJson("/v1/ledger/models/" + manifest);
    } catch (VerityApiException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
    return Optional.of(new Quote(manifest, Address.parse(n.path("owner").asText()), n.path("royalty").asLong(),
        n.path("operator_fee").asLong(), n.path("price").asLong(), Address.parse(n.path("worker").asText())));
  }

  // ---- transactions ----

  /** Sends a transaction signed elsewhere; returns once it is durably committed. */
  public Committed submit(SignedTransaction tx) throws IOException {
    JsonNode n = client.postJson("/v1/ledger/transactions", "application/cbor", tx.encode());
    Optional<Hash> created = n.hasNonNull("created") ? Optional.of(Hash.fromHex(n.path("created").asText())) : Optional.empty();
    return new Committed(n.path("height").asLong(), n.path("index").asInt(), Hash.fromHex(n.path("tx_id").asText()), created);
  }

  /**
   * Signs {@code action} with this client's key under its next nonce and the genesis minimum fee,
   * and sends it.
   *
   * @throws VerityApiException with type {@code transaction-rejected} and the ledger's reason when
   *     refused
   */
  public synchronized Committed send(Action action) throws IOException, VerificationException {
    Signer s = client.requireSigner("send a ledger transaction");
    GenesisConfig g = genesis();
    long nonce = account(s.address(), false).account().nonce();
    return submit(new Transaction(g.chainId(), s.publicKey(), nonce, g.minFee(), action).sign(s));
  }

  public Committed transfer(Address to, long amount) throws IOException, VerificationException {
    return send(new Action.Transfer(to, amount));
  }

  /** Mints {@code amount} to this client (dev networks only). */
  public Committed faucet(long amount) throws IOException, VerificationException {
    return send(new Action.Faucet(amount));
  }

  /** Registers a model version owned by this client, at a royalty of {@code price} per inference. */
  public Committed registerModel(Cid manifest, long price) throws IOException, VerificationException {
    return send(new Action.RegisterModel(manifest, price));
  }

  /** Opens a job for one inference of {@code manifest}, escrowing {@code maxFee}; returns the job id. */
  public Hash openJob(Cid manifest, Optional<Address> worker, long maxFee) throws IOException, VerificationException {
    Committed c = send(new Action.OpenJob(manifest, worker, 1, maxFee));
    return c.created().orElseThrow(() -> new VerificationException("the node did not report the id of the job opened"));
  }

  // ---- paid inference and its evidence ----

  /**
   * Runs an inference, paying for it when the node charges: asks for the price; if it is not 0,
   * opens a job for this node escrowing exactly the price, then runs the inference with it. The
   * result is verified as {@link VerityClient#infer} does; its receipt names the job.
   */
  public InferenceResult inferPaid(ModelRef ref, NamedTensors inputs) throws IOException, VerificationException {
    return inferPaid(ref, inputs, VerificationMode.RECEIPT);
  }

  /** As {@link #inferPaid(ModelRef, NamedTensors)} in verification mode {@code mode}. */
  public InferenceResult inferPaid(ModelRef ref, NamedTensors inputs, VerificationMode mode)
      throws IOException, VerificationException {
    ModelManifest m = client.model(ref).manifest();
    Optional<Quote> q = quote(m.cid());
    Optional<Hash> job = Optional.empty();
    if (q.isPresent() && q.get().price() > 0) {
      job = Optional.of(openJob(m.cid(), Optional.of(q.get().worker()), q.get().price()));
    }
    return client.infer(ModelRef.ofManifest(m.cid()), inputs, mode, UUID.randomUUID().toString(), job);
  }

  /** As {@link #verifyOnLedger(InferenceReceipt, Consumer)}, without reporting each check. */
  public LedgerEvidence verifyOnLedger(InferenceReceipt receipt) throws IOException, VerificationException {
    return verifyOnLedger(receipt, passed -> {});
  }

  /**
   * Checks, from the node's proofs and the sequencer's signatures only, that {@code receipt} is
   * committed on the ledger, under the job it names, and that this job was settled (paid) by the
   * node that signed the receipt, for the receipt's model, and is not invalidated. Reports each
   * check that passed to {@code passed}.
   *
   * @throws VerityApiException with status 404 if the receipt is not committed (yet)
   * @throws VerificationException naming the first check that failed
   */
  public LedgerEvidence verifyOnLedger(InferenceReceipt receipt, Consumer<String> passed)
      throws IOException, VerificationException {
    Hash jobId = receipt.job().orElseThrow(() -> new VerificationException(
        "receipt " + receipt.cid() + " names no job: it was not a paid inference, so the ledger holds nothing for it"));
    JsonNode n = client.getJson("/v1/ledger/receipts/" + receipt.cid() + "/proof");
    ReceiptProof proof;
    StateProof jobProof;
    try {
      proof = ReceiptProof.decode(B64.decode(n.path("receipt_proof").asText()));
      jobProof = proof(n.path("job_proof").asText());
    } catch (IllegalArgumentException e) { // DecodingException, or bad base64
      throw new VerificationException("node sent a malformed proof: " + e.getMessage(), e);
    }
    BlockHeader header = header(n.path("header").asText());
    LightClient lc = lightClient();
    if (!proof.entry().receipt().equals(receipt.cid())) {
      throw new VerificationException("the node proved receipt " + proof.entry().receipt() + ", not " + receipt.cid());
    }
    if (!proof.entry().job().equals(jobId)) {
      throw new VerificationException("the ledger commits receipt " + receipt.cid() + " under job " + proof.entry().job()
          + ", but the receipt names job " + jobId);
    }
    lc.verifyReceipt(proof);
    passed.accept("receipt is committed in block " + proof.header().height() + " (inclusion proof under its receipts"
        + " root; header signed by sequencer " + proof.header().sequencer() + ")");
    StateRecord.Job job = lc.verifyJobPaid(proof, header, jobProof);
    passed.accept("job " + jobId + " is " + job.status().name().toLowerCase(java.util.Locale.ROOT) + " as of block "
        + header.height() + ": charged " + job.charged() + " of an escrow of " + job.escrow()
        + " (state proof under the signed head)");
    if (!job.model().equals(receipt.manifest())) {
      throw new VerificationException("job " + jobId + " paid for manifest " + job.model() + ", the receipt is for "
          + receipt.manifest());
    }
    if (!job.worker().equals(Optional.of(receipt.node().address()))) {
      throw new VerificationException("job " + jobId + " was settled by worker " + job.worker().map(Address::toString)
          .orElse("(none)") + ", but the receipt is signed by node " + receipt.node().address());
    }
    passed.accept("the job paid for this receipt's model and was settled by the node that signed it ("
        + receipt.node().address() + ")");
    return new LedgerEvidence(proof, header, job);
  }

  /**
   * Waits (polling, at most {@code timeout}) until the node has committed {@code receipt}, then
   * {@link #verifyOnLedger verifies} it.
   */
  public LedgerEvidence awaitOnLedger(InferenceReceipt receipt, Duration timeout, Consumer<String> passed)
      throws IOException, VerificationException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        return verifyOnLedger(receipt, passed);
      } catch (VerityApiException e) {
        if (e.status() != 404 || System.nanoTime() - end > 0) {
          throw e;
        }
      }
      try {
        TimeUnit.MILLISECONDS.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for receipt " + receipt.cid() + " to be committed", e);
      }
    }
  }

  /** Where an optimistic result stands on the ledger. */
  public enum Outcome {
    /** The challenge window passed with no successful challenge: the result is final. */
    FINAL,
    /** Still open to challenges (or a dispute over it is being played). */
    PENDING,
    /** Proven wrong in a dispute (or revealed as a planted job): the worker was slashed. */
    INVALID
  }

  /**
   * An optimistic receipt's standing, proven from the sequencer's signature: the job, its trace
   * commitment and sample, the disputes over it, and the block after which it can become final.
   *
   * @param windowEnd the last block of the challenge window (of the reveal period for a job with an
   *     audit commitment); after it the job can be made final
   * @param disputes every dispute opened over the job, as of {@code header}
   */
  public record OptimisticStatus(Outcome outcome, StateRecord.Job job, StateRecord.Check check,
      List<StateRecord.Dispute> disputes, long windowEnd, BlockHeader header) {
    /** The dispute that proved the result wrong, if one did. */
    public Optional<StateRecord.Dispute> decidedBy() {
      return disputes.stream().filter(d -> d.phase() == StateRecord.Dispute.Phase.CHALLENGER_WON).findFirst();
    }
  }

  /**
   * Checks an optimistic receipt on the ledger, from proofs and the sequencer's signatures only:
   * that it is committed under its job with the trace commitment its evidence states (root, steps,
   * inputs, outputs), and whether the result is final, pending (until which block) or invalid (and
   * which dispute proved it). Reports each check that passed.
   *
   * @throws VerityApiException with status 404 if the receipt is not committed (yet)
   * @throws VerificationException naming the first check that failed
   */
  public OptimisticStatus optimisticStatus(InferenceReceipt receipt, Consumer<String> passed)
      throws IOException, VerificationException {
    OptimisticEvidence evidence = OptimisticEvidence.of(receipt);
    Hash jobId = receipt.job().orElseThrow(() -> new VerificationException(
        "receipt " + receipt.cid() + " names no job: it was not a paid inference, so the ledger holds nothing for it"));
    JsonNode n = client.getJson("/v1/ledger/receipts/" + receipt.cid() + "/proof");
    ReceiptProof proof;
    StateProof jobProof;
    StateProof checkProof;
    try {
      proof = ReceiptProof.decode(B64.decode(n.path("receipt_proof").asText()));
      jobProof = proof(n.path("job_proof").asText());
      if (!n.hasNonNull("check_proof")) {
        throw new VerificationException("the node shows no trace commitment for job " + jobId
            + ": the receipt was committed without one, so it cannot be disputed");
      }
      checkProof = proof(n.path("check_proof").asText());
    } catch (IllegalArgumentException e) {
      throw new VerificationException("node sent a malformed proof: " + e.getMessage(), e);
    }
    BlockHeader header = header(n.path("header").asText());
    LightClient lc = lightClient();
    if (!proof.entry().receipt().equals(receipt.cid()) || !proof.entry().job().equals(jobId)) {
      throw new VerificationException("the node proved receipt " + proof.entry().receipt() + " of job "
          + proof.entry().job() + ", not " + receipt.cid() + " of job " + jobId);
    }
    StateRecord.Job job = lc.verifyJobStatus(proof, header, jobProof);
    passed.accept("receipt is committed in block " + proof.header().height() + " under job " + jobId
        + " (inclusion proof; header signed by sequencer " + proof.header().sequencer() + ")");
    StateRecord.Check check = lc.verifyEntry(header, StateKey.check(jobId), checkProof, StateRecord.Check.class)
        .orElseThrow(() -> new VerificationException("job " + jobId + " has no trace commitment on the ledger"));
    TraceCommitment t = check.trace();
    if (!t.root().equals(evidence.trace()) || t.steps() != evidence.steps() || !t.inputs().equals(receipt.inputs())
        || !t.outputs().equals(receipt.outputs())) {
      throw new VerificationException("the trace commitment on the ledger (root " + t.root().toHex() + ", " + t.steps()
          + " steps) is not the one the receipt states (root " + evidence.trace().toHex() + ", " + evidence.steps() + ")");
    }
    if (!check.worker().equals(receipt.node().address())) {
      throw new VerificationException("the trace was committed by " + check.worker() + ", the receipt is signed by "
          + receipt.node().address());
    }
    passed.accept("the worker committed this receipt's trace (root " + t.root().toHex().substring(0, 16)
        + "…, " + t.steps() + " steps) in block " + check.committedHeight() + " (state proof)");
    List<StateRecord.Dispute> disputes = new ArrayList<>();
    for (JsonNode d : n.path("disputes")) {
      Hash id;
      StateProof p;
      try {
        id = Hash.fromHex(d.path("id").asText());
        p = proof(d.path("proof").asText());
      } catch (IllegalArgumentException e) {
        throw new VerificationException("node sent a malformed dispute: " + e.getMessage(), e);
      }
      StateRecord.Dispute dispute = lc.verifyDispute(header, id, p)
          .orElseThrow(() -> new VerificationException("the node named dispute " + id + " but proved it absent"));
      if (!dispute.job().equals(jobId)) {
        throw new VerificationException("dispute " + id + " is over job " + dispute.job() + ", not " + jobId);
      }
      disputes.add(dispute);
    }
    long window = genesis().challengeWindowBlocks(); // from the genesis, checked against the sequencer key
    long end = check.committedHeight() + window * (job.audit().isPresent() ? 2 : 1);
    Outcome outcome = switch (job.status()) {
      case FINAL -> Outcome.FINAL;
      case INVALID -> Outcome.INVALID;
      default -> Outcome.PENDING;
    };
    OptimisticStatus status = new OptimisticStatus(outcome, job, check, disputes, end, header);
    if (outcome == Outcome.INVALID) {
      return status;
    }
    passed.accept(switch (outcome) {
      case FINAL -> "job " + jobId + " is final: its challenge window passed with no successful challenge (state"
          + " proof under block " + header.height() + ")";
      default -> "job " + jobId + " is pending: open to challenges until block " + end + " (now " + header.height()
          + ")" + (check.sample().isPresent()
              ? check.sample().get().sampled() ? "; sampled for re-execution by " + check.sample().get().verifiers().size()
                  + " verifier(s), " + check.attesters().size() + " attested" : "; not sampled"
              : "; sample not drawn yet")
          + (check.openDisputes() > 0 ? "; " + check.openDisputes() + " dispute(s) being played" : "");
    });
    return status;
  }

  // ---- decoding ----

  private static BlockHeader header(String b64) throws VerificationException {
    try {
      return BlockHeader.decode(B64.decode(b64));
    } catch (IllegalArgumentException e) { // DecodingException, or bad base64
      throw new VerificationException("node sent a malformed block header: " + e.getMessage(), e);
    }
  }

  private static StateProof proof(String b64) throws VerificationException {
    try {
      return StateProof.decode(B64.decode(b64));
    } catch (IllegalArgumentException e) { // DecodingException, or bad base64
      throw new VerificationException("node sent a malformed state proof: " + e.getMessage(), e);
    }
  }
}
