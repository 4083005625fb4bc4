package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.core.merkle.MerkleTree;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a {@link Transaction} asks the ledger to do. Each action is an immutable record validated on
 * construction (so a decoded action is always well formed); whether it is allowed given the current
 * state is decided by the state machine ({@link BlockExecution}). Encoded as a canonical CBOR map
 * whose {@code "type"} field names the action.
 */
public sealed interface Action {

  /** The action's name in encodings. */
  String type();

  /** Canonical encoding, including the {@code "type"} field. */
  CborValue.Map toCbor();

  private static CborValue.Map.Builder typed(String type) {
    return CborValue.Map.builder().put("type", type);
  }

  private static byte[] concat(Hash a, Hash b) {
    byte[] out = new byte[2 * Hash.LENGTH];
    System.arraycopy(a.toBytes(), 0, out, 0, Hash.LENGTH);
    System.arraycopy(b.toBytes(), 0, out, Hash.LENGTH, Hash.LENGTH);
    return out;
  }

  private static long positive(String what, long v) {
    if (v <= 0) {
      throw new DecodingException(what + " must be positive, got " + v);
    }
    return v;
  }

  private static long nonNegative(String what, long v) {
    if (v < 0) {
      throw new DecodingException(what + " must not be negative, got " + v);
    }
    return v;
  }

  /** Identifier derived from an account and the nonce of the transaction that created something. */
  private static Hash derivedId(String domain, Address creator, long nonce) {
    ByteBuffer b = ByteBuffer.allocate(Address.LENGTH + Long.BYTES);
    b.put(creator.toBytes()).putLong(nonce);
    return Hash.tagged(domain, b.array());
  }

  /** Decodes any action; rejects unknown types and unknown or missing fields. */
  static Action fromCbor(CborValue.Map m) {
    String type = m.getText("type");
    return switch (type) {
      case Transfer.TYPE -> {
        m.requireOnly(Set.of("type", "to", "amount"));
        yield new Transfer(Fields.address(m, "to"), m.getLong("amount"));
      }
      case Stake.TYPE -> {
        m.requireOnly(Set.of("type", "amount"));
        yield new Stake(m.getLong("amount"));
      }
      case BeginUnstake.TYPE -> {
        m.requireOnly(Set.of("type", "amount"));
        yield new BeginUnstake(m.getLong("amount"));
      }
      case Withdraw.TYPE -> {
        m.requireOnly(Set.of("type"));
        yield new Withdraw();
      }
      case RegisterNode.TYPE -> RegisterNode.fromCbor(m);
      case Heartbeat.TYPE -> {
        m.requireOnly(Set.of("type"));
        yield new Heartbeat();
      }
      case RegisterModel.TYPE -> {
        m.requireOnly(Set.of("type", "manifest", "price"));
        yield new RegisterModel(Fields.cid(m, "manifest"), m.getLong("price"));
      }
      case OpenJob.TYPE -> {
        m.requireOnly(Set.of("type", "model", "worker", "inferences", "maxFee", "samplingPpm", "audit"));
        yield new OpenJob(
            Fields.cid(m, "model"),
            m.has("worker") ? Optional.of(Fields.address(m, "worker")) : Optional.empty(),
            Fields.smallInt(m, "inferences", OpenJob.MAX_INFERENCES),
            m.getLong("maxFee"),
            m.has("samplingPpm") ? OpenJob.checkRate(m.getLong("samplingPpm")) : 0,
            m.has("audit") ? Optional.of(Fields.hash(m, "audit")) : Optional.empty());
      }
      case SettleJob.TYPE -> {
        m.requireOnly(Set.of("type", "job", "inferences", "operatorFee", "verifiers"));
        yield new SettleJob(
            Fields.hash(m, "job"),
            Fields.smallInt(m, "inferences", OpenJob.MAX_INFERENCES),
            m.getLong("operatorFee"),
            Fields.list(
                m, "verifiers", SettleJob.MAX_VERIFIERS, v -> Fields.addressValue(v, "verifier")));
      }
      case FailJob.TYPE -> {
        m.requireOnly(Set.of("type", "job"));
        yield new FailJob(Fields.hash(m, "job"));
      }
      case CommitReceipts.TYPE -> CommitReceipts.fromCbor(m);
      case Contest.TYPE -> {
        m.requireOnly(Set.of("type", "job", "bond", "evidence"));
        yield new Contest(
            Fields.hash(m, "job"),
            m.getLong("bond"),
            m.has("evidence") ? Optional.of(Fields.cid(m, "evidence")) : Optional.empty());
      }
      case Challenge.TYPE -> {
        m.requireOnly(Set.of("type", "job", "bond", "root", "steps"));
        yield new Challenge(Fields.hash(m, "job"), m.getLong("bond"), Fields.hash(m, "root"),
            Fields.smallInt(m, "steps", TraceCommitment.MAX_STEPS));
      }
      case Attest.TYPE -> {
        m.requireOnly(Set.of("type", "job", "root"));
        yield new Attest(Fields.hash(m, "job"), Fields.hash(m, "root"));
      }
      case Bisect.TYPE -> {
        m.requireOnly(Set.of("type", "dispute", "left", "right"));
        yield new Bisect(Fields.hash(m, "dispute"), Fields.hash(m, "left"), Fields.hash(m, "right"));
      }
      case ProveStep.TYPE -> {
        m.requireOnly(Set.of("type", "dispute", "opening"));
        yield new ProveStep(Fields.hash(m, "dispute"), m.getBytes("opening"));
      }
      case ProveStepByBlob.TYPE -> {
        m.requireOnly(Set.of("type", "dispute", "opening"));
        yield new ProveStepByBlob(Fields.hash(m, "dispute"), Fields.cid(m, "opening"));
      }
      case Timeout.TYPE -> {
        m.requireOnly(Set.of("type", "dispute"));
        yield new Timeout(Fields.hash(m, "dispute"));
      }
      case Finalize.TYPE -> {
        m.requireOnly(Set.of("type", "job"));
        yield new Finalize(Fields.hash(m, "job"));
      }
      case Reveal.TYPE -> {
        m.requireOnly(Set.of("type", "job", "salt"));
        yield new Reveal(Fields.hash(m, "job"), Fields.hash(m, "salt"));
      }
      case Resolve.TYPE -> {
        m.requireOnly(Set.of("type", "challenge", "guilty"));
        yield new Resolve(Fields.hash(m, "challenge"), m.getBool("guilty"));
      }
      case Faucet.TYPE -> {
        m.requireOnly(Set.of("type", "amount"));
        yield new Faucet(m.getLong("amount"));
      }
      default -> throw new DecodingException("unknown transaction type '" + type + "'");
    };
  }

  /** Moves {@code amount} from the sender's balance to {@code to}. */
  record Transfer(Address to, long amount) implements Action {
    static final String TYPE = "transfer";

    public Transfer {
      java.util.Objects.requireNonNull(to, "recipient");
      positive("transfer amount", amount);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("to", Fields.bytes(to)).put("amount", amount).build();
    }
  }

  /** Bonds {@code amount} of the sender's balance as stake. */
  record Stake(long amount) implements Action {
    static final String TYPE = "stake";

    public Stake {
      positive("stake amount", amount);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("amount", amount).build();
    }
  }

  /**
   * Moves {@code amount} of bonded stake into unbonding; withdrawable after the genesis unbonding
   * period. Unstaking again while unbonding adds to the unbonding amount and restarts the period.
   */
  record BeginUnstake(long amount) implements Action {
    static final String TYPE = "unstake";

    public BeginUnstake {
      positive("unstake amount", amount);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("amount", amount).build();
    }
  }

  /** Returns all unbonding stake whose period has passed to the sender's balance. */
  record Withdraw() implements Action {
    static final String TYPE = "withdraw";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).build();
    }
  }

  /**
   * Registers (or re-registers, replacing the description of) the sender's node, bonding {@code
   * stake} more; afterwards the bonded stake must reach the genesis minimum.
   */
  record RegisterNode(
      String endpoint, Set<NodeRole> roles, List<Cid> models, long capacity, long stake)
      implements Action {
    static final String TYPE = "registerNode";
    public static final int MAX_ENDPOINT_CHARS = 256;
    public static final int MAX_MODELS = 64;

    public RegisterNode {
      checkNode(endpoint, roles, models, capacity);
      roles = Set.copyOf(roles);
      models = List.copyOf(models);
      nonNegative("stake", stake);
    }

    static void checkNode(String endpoint, Set<NodeRole> roles, List<Cid> models, long capacity) {
      if (endpoint == null || endpoint.isEmpty() || endpoint.length() > MAX_ENDPOINT_CHARS) {
        throw new DecodingException("endpoint must be 1.." + MAX_ENDPOINT_CHARS + " characters");
      }
      try {
        URI uri = new URI(endpoint);
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
            || uri.getHost() == null) {
          throw new DecodingException("endpoint must be an http(s) URL with a host: " + endpoint);
        }
      } catch (URISyntaxException e) {
        throw new DecodingException("endpoint is not a URL: " + e.getMessage(), e);
      }
      if (roles == null || roles.isEmpty()) {
        throw new DecodingException("a node needs at least one role");
      }
      if (models == null || models.size() > MAX_MODELS) {
        throw new DecodingException("a node serves at most " + MAX_MODELS + " models");
      }
      if (new HashSet<>(models).size() != models.size()) {
        throw new DecodingException("a node lists each model once");
      }
      if (capacity < 1) {
        throw new DecodingException("capacity must be at least 1, got " + capacity);
      }
    }

    static CborValue encodeRoles(Set<NodeRole> roles) {
      List<CborValue> out = new ArrayList<>();
      for (NodeRole r : StateRecord.sortedRoles(roles)) {
        out.add(new CborValue.Text(r.label()));
      }
      return new CborValue.Array(out);
    }

    static Set<NodeRole> decodeRoles(CborValue.Map m) {
      EnumSet<NodeRole> roles = EnumSet.noneOf(NodeRole.class);
      NodeRole previous = null;
      for (String s : m.getTextList("roles")) {
        NodeRole r = NodeRole.ofLabel(s);
        if (previous != null && previous.compareTo(r) >= 0) {
          throw new DecodingException("roles must be listed once each, in canonical order");
        }
        previous = r;
        roles.add(r);
      }
      return roles;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE)
          .put("endpoint", endpoint)
          .put("roles", encodeRoles(roles))
          .put("models", Fields.array(models, Fields::bytes))
          .put("capacity", capacity)
          .put("stake", stake)
          .build();
    }

    static RegisterNode fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "endpoint", "roles", "models", "capacity", "stake"));
      return new RegisterNode(
          Fields.text(m, "endpoint", MAX_ENDPOINT_CHARS),
          decodeRoles(m),
          Fields.list(m, "models", MAX_MODELS, v -> Fields.cid(v, "models")),
          m.getLong("capacity"),
          m.getLong("stake"));
    }
  }

  /** Records that the sender's node is alive at this block. */
  record Heartbeat() implements Action {
    static final String TYPE = "heartbeat";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).build();
    }
  }

  /** Registers a model version owned by the sender; each manifest can be registered once. */
  record RegisterModel(Cid manifest, long pricePerInference) implements Action {
    static final String TYPE = "registerModel";

    public RegisterModel {
      java.util.Objects.requireNonNull(manifest, "manifest");
      nonNegative("price per inference", pricePerInference);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("manifest", Fields.bytes(manifest)).put("price", pricePerInference).build();
    }
  }

  /**
   * Opens a job: the sender (client) escrows {@code maxFee} for up to {@code inferences} runs of
   * {@code model} by {@code worker} (or by any registered worker serving the model when empty).
   * The escrow must cover the model's royalty for every inference. The job's id is {@link
   * #jobId(Address, long)} of the sender and this transaction's nonce.
   */
  record OpenJob(Cid model, Optional<Address> worker, int inferences, long maxFee, int samplingPpm,
      Optional<Hash> audit) implements Action {
    static final String TYPE = "openJob";
    public static final int MAX_INFERENCES = 1_000_000;
    /** Sampling rates are parts per million. */
    public static final int PPM = 1_000_000;

    public OpenJob {
      java.util.Objects.requireNonNull(model, "model");
      worker = worker == null ? Optional.empty() : worker;
      audit = audit == null ? Optional.empty() : audit;
      if (inferences < 1 || inferences > MAX_INFERENCES) {
        throw new DecodingException(
            "a job covers 1.." + MAX_INFERENCES + " inferences, got " + inferences);
      }
      positive("maximum fee", maxFee);
      checkRate(samplingPpm);
    }

    /** A job with the network's sampling rate and no audit commitment. */
    public OpenJob(Cid model, Optional<Address> worker, int inferences, long maxFee) {
      this(model, worker, inferences, maxFee, 0, Optional.empty());
    }

    static int checkRate(long ppm) {
      if (ppm < 0 || ppm > PPM) {
        throw new DecodingException("a sampling rate is 0.." + PPM + " parts per million, got " + ppm);
      }
      return (int) ppm;
    }

    /**
     * The audit commitment that marks a planted job: {@code H("verity/audit/v1", salt || job)}.
     * Clients may put a random value in {@code audit} of any job, so planted jobs look like others.
     */
    public static Hash auditCommitment(Hash salt, Hash job) {
      return Hash.tagged("verity/audit/v1", concat(salt, job));
    }

    /**
     * The deliberately wrong trace root a planted job's worker commits: {@code
     * H("verity/planted/v1", salt || job)}. No honest run yields it, so whoever attests it did not
     * recompute the job.
     */
    public static Hash plantedRoot(Hash salt, Hash job) {
      return Hash.tagged("verity/planted/v1", concat(salt, job));
    }

    /** The id of the job opened by {@code client}'s transaction with {@code nonce}. */
    public static Hash jobId(Address client, long nonce) {
      return derivedId("verity/job", client, nonce);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      CborValue.Map.Builder b =
          typed(TYPE)
              .put("model", Fields.bytes(model))
              .put("inferences", inferences)
              .put("maxFee", maxFee);
      worker.ifPresent(w -> b.put("worker", Fields.bytes(w)));
      if (samplingPpm != 0) {
        b.put("samplingPpm", samplingPpm);
      }
      audit.ifPresent(a -> b.put("audit", Fields.bytes(a)));
      return b.build();
    }
  }

  /**
   * Settles a job, by its worker: charges the model's royalty for {@code inferences} runs plus
   * {@code operatorFee}, pays the verifiers and the protocol their genesis shares of the operator
   * fee, the operator the rest, and refunds the unused escrow to the client.
   */
  record SettleJob(Hash job, int inferences, long operatorFee, List<Address> verifiers)
      implements Action {
    static final String TYPE = "settleJob";
    public static final int MAX_VERIFIERS = 16;

    public SettleJob {
      java.util.Objects.requireNonNull(job, "job");
      if (inferences < 1 || inferences > OpenJob.MAX_INFERENCES) {
        throw new DecodingException("a settlement covers 1.." + OpenJob.MAX_INFERENCES
            + " inferences, got " + inferences);
      }
      nonNegative("operator fee", operatorFee);
      verifiers = List.copyOf(verifiers);
      if (verifiers.size() > MAX_VERIFIERS) {
        throw new DecodingException("at most " + MAX_VERIFIERS + " verifiers");
      }
      if (new HashSet<>(verifiers).size() != verifiers.size()) {
        throw new DecodingException("each verifier is named once");
      }
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE)
          .put("job", Fields.bytes(job))
          .put("inferences", inferences)
          .put("operatorFee", operatorFee)
          .put("verifiers", Fields.array(verifiers, Fields::bytes))
          .build();
    }
  }

  /**
   * Fails an open job and refunds the whole escrow: by its worker at any time, or by its client once
   * the job has expired.
   */
  record FailJob(Hash job) implements Action {
    static final String TYPE = "failJob";

    public FailJob {
      java.util.Objects.requireNonNull(job, "job");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("job", Fields.bytes(job)).build();
    }
  }

  /**
   * Commits a batch of inference receipts, by the worker of every job named. Each entry's leaf is
   * the canonical encoding of {@code {job, receipt}}; {@link #batchRoot()} is the RFC 6962 Merkle
   * root of the batch, and the block's receipts root covers the leaves of all batches it holds.
   */
  record CommitReceipts(List<Entry> receipts) implements Action {
    static final String TYPE = "commitReceipts";
    public static final int MAX_RECEIPTS = 512;

    /**
     * One receipt and the job it belongs to; for an optimistic job also the worker's {@link
     * TraceCommitment}. The leaf is {@code {"job", "receipt"}} plus {@code "trace"} when present.
     */
    public record Entry(Hash job, Cid receipt, Optional<TraceCommitment> trace) {
      public Entry {
        java.util.Objects.requireNonNull(job, "job");
        java.util.Objects.requireNonNull(receipt, "receipt");
        trace = trace == null ? Optional.empty() : trace;
      }

      /** An entry without a trace commitment. */
      public Entry(Hash job, Cid receipt) {
        this(job, receipt, Optional.empty());
      }

      CborValue.Map toCbor() {
        CborValue.Map.Builder b = CborValue.Map.builder()
            .put("job", Fields.bytes(job))
            .put("receipt", Fields.bytes(receipt));
        trace.ifPresent(t -> b.put("trace", t.toCbor()));
        return b.build();
      }

      /** The Merkle leaf committed in a block's receipts root. */
      public byte[] leaf() {
        return Cbor.encode(toCbor());
      }

      static Entry fromCbor(CborValue v) {
        CborValue.Map m = Fields.map(v, "receipt entry").requireOnly(Set.of("job", "receipt", "trace"));
        return new Entry(Fields.hash(m, "job"), Fields.cid(m, "receipt"),
            m.has("trace") ? Optional.of(TraceCommitment.fromCbor(m.get("trace"))) : Optional.empty());
      }
    }

    public CommitReceipts {
      receipts = List.copyOf(receipts);
      if (receipts.isEmpty() || receipts.size() > MAX_RECEIPTS) {
        throw new DecodingException("a batch holds 1.." + MAX_RECEIPTS + " receipts");
      }
      Set<Cid> seen = new HashSet<>();
      for (Entry e : receipts) {
        if (!seen.add(e.receipt())) {
          throw new DecodingException("receipt " + e.receipt() + " appears twice in the batch");
        }
      }
    }

    public Hash batchRoot() {
      List<byte[]> leaves = new ArrayList<>(receipts.size());
      for (Entry e : receipts) {
        leaves.add(e.leaf());
      }
      return MerkleTree.ofLeaves(leaves).root();
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("receipts", Fields.array(receipts, Entry::toCbor)).build();
    }

    static CommitReceipts fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "receipts"));
      return new CommitReceipts(Fields.list(m, "receipts", MAX_RECEIPTS, Entry::fromCbor));
    }
  }

  /**
   * Contests a settled job that has no trace commitment within the challenge window, locking
   * {@code bond}; {@code evidence} optionally names the fraud proof. The genesis authority rules
   * with {@link Resolve}. The contest's id is {@link Challenge#challengeId(Address, long)}.
   * Optimistic jobs (with a trace commitment) are challenged with {@link Challenge} instead, and
   * nobody has to be trusted to rule.
   */
  record Contest(Hash job, long bond, Optional<Cid> evidence) implements Action {
    static final String TYPE = "contest";

    public Contest {
      java.util.Objects.requireNonNull(job, "job");
      evidence = evidence == null ? Optional.empty() : evidence;
      positive("contest bond", bond);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      CborValue.Map.Builder b = typed(TYPE).put("job", Fields.bytes(job)).put("bond", bond);
      evidence.ifPresent(e -> b.put("evidence", Fields.bytes(e)));
      return b.build();
    }
  }

  /**
   * Challenges an optimistic job's trace commitment within its challenge window, locking {@code
   * bond} and opening a dispute ({@link StateRecord.Dispute}) whose id is {@link
   * #disputeId(Hash, Address)} of the job and the sender. {@code root} and
   * {@code steps} are the trace the challenger computed. If the step counts differ the referee rules
   * at once from the model's node count; if the roots differ the parties bisect; if the roots are
   * equal the claim is that the outputs differ from the trace, and the worker must open the steps
   * producing the outputs.
   */
  record Challenge(Hash job, long bond, Hash root, int steps) implements Action {
    static final String TYPE = "challenge";

    public Challenge {
      java.util.Objects.requireNonNull(job, "job");
      java.util.Objects.requireNonNull(root, "root");
      positive("challenge bond", bond);
      TraceCommitment.checkSteps(steps);
    }

    /** The id of a {@link Contest} sent by {@code challenger} with {@code nonce}. */
    public static Hash challengeId(Address challenger, long nonce) {
      return derivedId("verity/challenge", challenger, nonce);
    }

    /**
     * The id of the dispute {@code challenger} opens against {@code job}: one per challenger and
     * job, so a second challenge by the same party is refused.
     */
    public static Hash disputeId(Hash job, Address challenger) {
      byte[] b = new byte[Hash.LENGTH + Address.LENGTH];
      System.arraycopy(job.toBytes(), 0, b, 0, Hash.LENGTH);
      System.arraycopy(challenger.toBytes(), 0, b, Hash.LENGTH, Address.LENGTH);
      return Hash.tagged("verity/dispute", b);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("job", Fields.bytes(job)).put("bond", bond)
          .put("root", Fields.bytes(root)).put("steps", steps).build();
    }
  }

  /**
   * An assigned verifier's statement that it re-executed a sampled job and got the committed trace
   * {@code root}; it is paid the genesis check fee when the job becomes final, and slashed if the
   * root is later shown wrong (a lost dispute or a revealed planted job).
   */
  record Attest(Hash job, Hash root) implements Action {
    static final String TYPE = "attest";

    public Attest {
      java.util.Objects.requireNonNull(job, "job");
      java.util.Objects.requireNonNull(root, "root");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("job", Fields.bytes(job)).put("root", Fields.bytes(root)).build();
    }
  }

  /**
   * One bisection move in a dispute: the sender's two child hashes of the current subtree of its
   * trace tree; {@code H(0x01 || left || right)} must be the sender's hash of that subtree. The
   * worker moves first, then the challenger; the game descends into the leftmost child where they
   * differ.
   */
  record Bisect(Hash dispute, Hash left, Hash right) implements Action {
    static final String TYPE = "bisect";

    public Bisect {
      java.util.Objects.requireNonNull(dispute, "dispute");
      java.util.Objects.requireNonNull(left, "left");
      java.util.Objects.requireNonNull(right, "right");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("dispute", Fields.bytes(dispute)).put("left", Fields.bytes(left))
          .put("right", Fields.bytes(right)).build();
    }
  }

  /**
   * The worker's proof at the end of a dispute: an opening of the disputed step (or, for an
   * outputs claim, of the steps producing the outputs), which the {@link DisputeReferee} checks.
   * The bytes are opaque to the ledger (format: verity-node's {@code StepProof}), at most {@link
   * #MAX_OPENING_BYTES}; a larger opening goes by {@link ProveStepByBlob}.
   */
  record ProveStep(Hash dispute, byte[] opening) implements Action {
    static final String TYPE = "proveStep";
    public static final int MAX_OPENING_BYTES = SignedTransaction.MAX_BYTES - 1024;

    public ProveStep {
      java.util.Objects.requireNonNull(dispute, "dispute");
      java.util.Objects.requireNonNull(opening, "opening");
      if (opening.length == 0 || opening.length > MAX_OPENING_BYTES) {
        throw new DecodingException("a step opening has 1.." + MAX_OPENING_BYTES + " bytes, got " + opening.length);
      }
      opening = opening.clone();
    }

    @Override
    public byte[] opening() {
      return opening.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ProveStep p && dispute.equals(p.dispute) && java.util.Arrays.equals(opening, p.opening);
    }

    @Override
    public int hashCode() {
      return 31 * dispute.hashCode() + java.util.Arrays.hashCode(opening);
    }

    @Override
    public String toString() {
      return "ProveStep[dispute=" + dispute + ", opening=" + opening.length + " bytes]";
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("dispute", Fields.bytes(dispute)).put("opening", opening).build();
    }
  }
  /**
   * {@link ProveStep} for an opening too large for a transaction (a step whose input tensors
   * exceed {@link ProveStep#MAX_OPENING_BYTES}, as any convolution of a real image model does): the
   * transaction names the opening by its blob CID (the hub's naming rule, raw or chunked), and the
   * {@link DisputeReferee} reads it from the content it holds and re-hashes it ({@link
   * DisputeReferee#openingBlob}). The worker puts the blob on the sequencer's hub first; while the
   * referee cannot read it the move is refused with {@code REFEREE_UNAVAILABLE} and can be sent
   * again before the deadline. The verdict is the same as for the same bytes sent inline.
   */
  record ProveStepByBlob(Hash dispute, Cid opening) implements Action {
    static final String TYPE = "proveStepBlob";

    public ProveStepByBlob {
      java.util.Objects.requireNonNull(dispute, "dispute");
      java.util.Objects.requireNonNull(opening, "opening");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("dispute", Fields.bytes(dispute)).put("opening", Fields.bytes(opening)).build();
    }
  }


  /**
   * Ends a dispute whose current move is overdue (the block's time is past the move's deadline):
   * the party whose turn it was loses. Anyone may send it.
   */
  record Timeout(Hash dispute) implements Action {
    static final String TYPE = "timeout";

    public Timeout {
      java.util.Objects.requireNonNull(dispute, "dispute");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("dispute", Fields.bytes(dispute)).build();
    }
  }

  /**
   * Makes an optimistic job final once its challenge window (and, for a job with an audit
   * commitment, the reveal period after it) has passed with no dispute open: the job's status
   * becomes {@code FINAL}, attesting verifiers are paid the check fee from the job's check pool and
   * the rest returns to the worker. Anyone may send it.
   */
  record Finalize(Hash job) implements Action {
    static final String TYPE = "finalize";

    public Finalize {
      java.util.Objects.requireNonNull(job, "job");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("job", Fields.bytes(job)).build();
    }
  }

  /**
   * Reveals a planted job, by its client, after its challenge window: {@code salt} must open the
   * job's audit commitment ({@link OpenJob#auditCommitment}) and the committed trace root must be
   * {@link OpenJob#plantedRoot}. Every verifier that attested that root is slashed; the job
   * becomes {@code INVALID}.
   */
  record Reveal(Hash job, Hash salt) implements Action {
    static final String TYPE = "reveal";

    public Reveal {
      java.util.Objects.requireNonNull(job, "job");
      java.util.Objects.requireNonNull(salt, "salt");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("job", Fields.bytes(job)).put("salt", Fields.bytes(salt)).build();
    }
  }

  /**
   * Resolves an open {@link Contest}; only the genesis authority may send it (optimistic jobs are
   * decided by their dispute game instead). Guilty: the worker's stake
   * is slashed by the genesis fraction, the client refunded from it, the challenger gets the bond
   * back plus a reward, the rest is burned and the job becomes invalid. Not guilty: the bond goes
   * to the accused worker.
   */
  record Resolve(Hash challenge, boolean guilty) implements Action {
    static final String TYPE = "resolve";

    public Resolve {
      java.util.Objects.requireNonNull(challenge, "challenge");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("challenge", Fields.bytes(challenge)).put("guilty", guilty).build();
    }
  }

  /** Mints {@code amount} to the sender; only on dev networks, at most the genesis limit. */
  record Faucet(long amount) implements Action {
    static final String TYPE = "faucet";

    public Faucet {
      positive("faucet amount", amount);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(TYPE).put("amount", amount).build();
    }
  }
}
