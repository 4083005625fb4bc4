package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * One entry of the ledger state. Every entry is an immutable, validated value whose canonical CBOR
 * encoding (a map with a {@code "type"} field naming its {@link StateKey.Kind}) is what the state
 * tree commits to; light clients decode the same bytes from a {@link StateProof}.
 */
public sealed interface StateRecord
    permits StateRecord.Account,
        StateRecord.Stake,
        StateRecord.Node,
        StateRecord.Model,
        StateRecord.Job,
        StateRecord.Receipt,
        StateRecord.Challenge,
        StateRecord.Supply,
        StateRecord.Dispute,
        StateRecord.Check,
        StateRecord.Sampling,
        StateRecord.Verifiers,
        StateRecord.Exposure,
        StateRecord.Horizon,
        GenesisConfig {

  /** The kind of key this entry lives under. */
  StateKey.Kind kind();

  /** The canonical encoding committed to by the state root. */
  CborValue.Map toCbor();

  default byte[] encode() {
    return Cbor.encode(toCbor());
  }

  /** Decodes any entry from its canonical encoding; rejects anything else. */
  static StateRecord decode(byte[] bytes) {
    CborValue.Map m = Cbor.decodeMap(bytes);
    StateKey.Kind kind = StateKey.Kind.ofLabel(m.getText("type"));
    return switch (kind) {
      case CONFIG -> GenesisConfig.fromCbor(m);
      case SUPPLY -> Supply.fromCbor(m);
      case ACCOUNT -> Account.fromCbor(m);
      case STAKE -> Stake.fromCbor(m);
      case NODE -> Node.fromCbor(m);
      case MODEL -> Model.fromCbor(m);
      case JOB -> Job.fromCbor(m);
      case RECEIPT -> Receipt.fromCbor(m);
      case CHALLENGE -> Challenge.fromCbor(m);
      case DISPUTE -> Dispute.fromCbor(m);
      case CHECK -> Check.fromCbor(m);
      case SAMPLING -> Sampling.fromCbor(m);
      case VERIFIERS -> Verifiers.fromCbor(m);
      case EXPOSURE -> Exposure.fromCbor(m);
      case HORIZON -> Horizon.fromCbor(m);
    };
  }

  private static CborValue.Map.Builder typed(StateKey.Kind kind) {
    return CborValue.Map.builder().put("type", kind.label());
  }

  private static void nonNegative(String what, long v) {
    if (v < 0) {
      throw new DecodingException(what + " must not be negative, got " + v);
    }
  }

  /** Spendable balance and the number of transactions the account has sent (its next nonce). */
  record Account(long balance, long nonce) implements StateRecord {
    public static final Account EMPTY = new Account(0, 0);

    public Account {
      nonNegative("balance", balance);
      nonNegative("nonce", nonce);
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.ACCOUNT;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind()).put("balance", balance).put("nonce", nonce).build();
    }

    static Account fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "balance", "nonce"));
      return new Account(Fields.amount(m, "balance"), Fields.amount(m, "nonce"));
    }
  }

  /**
   * Stake at risk: {@code bonded} backs a node and can be slashed; {@code unbonding} is on its way
   * out, still slashable, and can be withdrawn from block {@code releaseHeight} on.
   */
  record Stake(long bonded, long unbonding, long releaseHeight) implements StateRecord {
    public static final Stake EMPTY = new Stake(0, 0, 0);

    public Stake {
      nonNegative("bonded stake", bonded);
      nonNegative("unbonding stake", unbonding);
      nonNegative("release height", releaseHeight);
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.STAKE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind())
          .put("bonded", bonded)
          .put("unbonding", unbonding)
          .put("release", releaseHeight)
          .build();
    }

    static Stake fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "bonded", "unbonding", "release"));
      return new Stake(
          Fields.amount(m, "bonded"), Fields.amount(m, "unbonding"), Fields.amount(m, "release"));
    }
  }

  /** A registered node, keyed by its operator's address. */
  record Node(
      Address operator,
      String endpoint,
      Set<NodeRole> roles,
      List<Cid> models,
      long capacity,
      long registeredHeight,
      long lastHeartbeatHeight)
      implements StateRecord {
    public Node {
      Action.RegisterNode.checkNode(endpoint, roles, models, capacity);
      roles = Set.copyOf(roles);
      models = List.copyOf(models);
      nonNegative("registration height", registeredHeight);
      nonNegative("heartbeat height", lastHeartbeatHeight);
    }

    public boolean serves(Cid model) {
      return models.contains(model);
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.NODE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind())
          .put("operator", Fields.bytes(operator))
          .put("endpoint", endpoint)
          .put("roles", Action.RegisterNode.encodeRoles(roles))
          .put("models", Fields.array(models, Fields::bytes))
          .put("capacity", capacity)
          .put("registered", registeredHeight)
          .put("heartbeat", lastHeartbeatHeight)
          .build();
    }

    static Node fromCbor(CborValue.Map m) {
      m.requireOnly(
          Set.of(
              "type", "operator", "endpoint", "roles", "models", "capacity", "registered",
              "heartbeat"));
      return new Node(
          Fields.address(m, "operator"),
          Fields.text(m, "endpoint", Action.RegisterNode.MAX_ENDPOINT_CHARS),
          Action.RegisterNode.decodeRoles(m),
          Fields.list(m, "models", Action.RegisterNode.MAX_MODELS, v -> Fields.cid(v, "models")),
          Fields.amount(m, "capacity"),
          Fields.amount(m, "registered"),
          Fields.amount(m, "heartbeat"));
    }
  }

  /** A model version: its manifest, the owner paid royalties, and the royalty per inference. */
  record Model(Cid manifest, Address owner, long pricePerInference, long registeredHeight)
      implements StateRecord {
    public Model {
      nonNegative("price per inference", pricePerInference);
      nonNegative("registration height", registeredHeight);
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.MODEL;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind())
          .put("manifest", Fields.bytes(manifest))
          .put("owner", Fields.bytes(owner))
          .put("price", pricePerInference)
          .put("registered", registeredHeight)
          .build();
    }

    static Model fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "manifest", "owner", "price", "registered"));
      return new Model(
          Fields.cid(m, "manifest"),
          Fields.address(m, "owner"),
          Fields.amount(m, "price"),
          Fields.amount(m, "registered"));
    }
  }

  /**
   * A paid inference job. Life cycle: {@code OPEN} (escrow held) then exactly one of {@code
   * SETTLED} (paid out, refund of the rest) or {@code FAILED} (escrow refunded). A settled job may
   * be {@code CHALLENGED}; it returns to {@code SETTLED} or becomes {@code INVALID} (worker
   * slashed, client refunded). A settled job with a trace commitment (optimistic) becomes {@code
   * FINAL} by {@link Action.Finalize} once its challenge window has passed without a successful
   * challenge, or {@code INVALID} when a dispute finds its worker guilty or its client reveals it
   * as planted.
   *
   * @param samplingPpm the job's own sampling rate (0: the network's); the effective rate is the
   *     larger of the two
   * @param audit the client's audit commitment, if any ({@link Action.OpenJob#auditCommitment})
   */
  record Job(
      Hash id,
      Address client,
      Cid model,
      Address modelOwner,
      long modelPrice,
      Optional<Address> worker,
      int inferences,
      long escrow,
      Status status,
      long openedHeight,
      long expiresHeight,
      long charged,
      long settledHeight,
      int receipts,
      int samplingPpm,
      Optional<Hash> audit)
      implements StateRecord {
    /** Where a job is in its life cycle. */
    public enum Status {
      OPEN,
      SETTLED,
      FAILED,
      CHALLENGED,
      INVALID,
      FINAL;

      String label() {
        return name().toLowerCase(Locale.ROOT);
      }

      static Status ofLabel(String s) {
        for (Status st : values()) {
          if (st.label().equals(s)) {
            return st;
          }
        }
        throw new DecodingException("unknown job status '" + s + "'");
      }
    }

    public Job {
      worker = worker == null ? Optional.empty() : worker;
      if (inferences < 1 || inferences > Action.OpenJob.MAX_INFERENCES) {
        throw new DecodingException(
            "a job covers 1.." + Action.OpenJob.MAX_INFERENCES + " inferences, got " + inferences);
      }
      nonNegative("escrow", escrow);
      nonNegative("model price", modelPrice);
      nonNegative("charged amount", charged);
      nonNegative("opening height", openedHeight);
      nonNegative("expiry height", expiresHeight);
      nonNegative("settlement height", settledHeight);
      if (charged > escrow) {
        throw new DecodingException("a job cannot charge more than its escrow");
      }
      if (receipts < 0 || receipts > inferences) {
        throw new DecodingException("a job has 0.." + inferences + " receipts, got " + receipts);
      }
      Action.OpenJob.checkRate(samplingPpm);
      audit = audit == null ? Optional.empty() : audit;
    }

    /** A job at the network's sampling rate without an audit commitment. */
    public Job(Hash id, Address client, Cid model, Address modelOwner, long modelPrice,
        Optional<Address> worker, int inferences, long escrow, Status status, long openedHeight,
        long expiresHeight, long charged, long settledHeight, int receipts) {
      this(id, client, model, modelOwner, modelPrice, worker, inferences, escrow, status,
          openedHeight, expiresHeight, charged, settledHeight, receipts, 0, Optional.empty());
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.JOB;
    }

    Job withStatus(Status s) {
      return new Job(
          id, client, model, modelOwner, modelPrice, worker, inferences, escrow, s, openedHeight,
          expiresHeight, charged, settledHeight, receipts, samplingPpm, audit);
    }

    @Override
    public CborValue.Map toCbor() {
      CborValue.Map.Builder b =
          typed(kind())
              .put("id", Fields.bytes(id))
              .put("client", Fields.bytes(client))
              .put("model", Fields.bytes(model))
              .put("owner", Fields.bytes(modelOwner))
              .put("price", modelPrice)
              .put("inferences", inferences)
              .put("escrow", escrow)
              .put("status", status.label())
              .put("opened", openedHeight)
              .put("expires", expiresHeight)
              .put("charged", charged)
              .put("settled", settledHeight)
              .put("receipts", receipts);
      worker.ifPresent(w -> b.put("worker", Fields.bytes(w)));
      if (samplingPpm != 0) {
        b.put("samplingPpm", samplingPpm);
      }
      audit.ifPresent(a -> b.put("audit", Fields.bytes(a)));
      return b.build();
    }

    static Job fromCbor(CborValue.Map m) {
      m.requireOnly(
          Set.of(
              "type", "id", "client", "model", "owner", "price", "worker", "inferences", "escrow",
              "status", "opened", "expires", "charged", "settled", "receipts", "samplingPpm",
              "audit"));
      return new Job(
          Fields.hash(m, "id"),
          Fields.address(m, "client"),
          Fields.cid(m, "model"),
          Fields.address(m, "owner"),
          Fields.amount(m, "price"),
          m.has("worker") ? Optional.of(Fields.address(m, "worker")) : Optional.empty(),
          Fields.smallInt(m, "inferences", Action.OpenJob.MAX_INFERENCES),
          Fields.amount(m, "escrow"),
          Status.ofLabel(m.getText("status")),
          Fields.amount(m, "opened"),
          Fields.amount(m, "expires"),
          Fields.amount(m, "charged"),
          Fields.amount(m, "settled"),
          Fields.smallInt(m, "receipts", Action.OpenJob.MAX_INFERENCES),
          m.has("samplingPpm") ? Fields.smallInt(m, "samplingPpm", Action.OpenJob.PPM) : 0,
          m.has("audit") ? Optional.of(Fields.hash(m, "audit")) : Optional.empty());
    }
  }

  /** A receipt committed by a worker: which job it belongs to and in which block. */
  record Receipt(Cid receipt, Hash job, Address worker, long height) implements StateRecord {
    public Receipt {
      nonNegative("height", height);
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.RECEIPT;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind())
          .put("receipt", Fields.bytes(receipt))
          .put("job", Fields.bytes(job))
          .put("worker", Fields.bytes(worker))
          .put("height", height)
          .build();
    }

    static Receipt fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "receipt", "job", "worker", "height"));
      return new Receipt(
          Fields.cid(m, "receipt"),
          Fields.hash(m, "job"),
          Fields.address(m, "worker"),
          Fields.amount(m, "height"));
    }
  }

  /**
   * A {@link Action.Contest} against a settled job, backed by a bond. {@code OPEN} until the authority
   * resolves it: {@code UPHELD} (worker slashed by {@code slashed}) or {@code REJECTED} (bond lost).
   */
  record Challenge(
      Hash id,
      Address challenger,
      Hash job,
      long bond,
      Optional<Cid> evidence,
      Status status,
      long openedHeight,
      long slashed)
      implements StateRecord {
    /** Where a challenge is in its life cycle. */
    public enum Status {
      OPEN,
      UPHELD,
      REJECTED;

      String label() {
        return name().toLowerCase(Locale.ROOT);
      }

      static Status ofLabel(String s) {
        for (Status st : values()) {
          if (st.label().equals(s)) {
            return st;
          }
        }
        throw new DecodingException("unknown challenge status '" + s + "'");
      }
    }

    public Challenge {
      evidence = evidence == null ? Optional.empty() : evidence;
      nonNegative("bond", bond);
      nonNegative("opening height", openedHeight);
      nonNegative("slashed amount", slashed);
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.CHALLENGE;
    }

    Challenge resolved(Status s, long slashedAmount) {
      return new Challenge(id, challenger, job, bond, evidence, s, openedHeight, slashedAmount);
    }

    @Override
    public CborValue.Map toCbor() {
      CborValue.Map.Builder b =
          typed(kind())
              .put("id", Fields.bytes(id))
              .put("challenger", Fields.bytes(challenger))
              .put("job", Fields.bytes(job))
              .put("bond", bond)
              .put("status", status.label())
              .put("opened", openedHeight)
              .put("slashed", slashed);
      evidence.ifPresent(e -> b.put("evidence", Fields.bytes(e)));
      return b.build();
    }

    static Challenge fromCbor(CborValue.Map m) {
      m.requireOnly(
          Set.of(
              "type", "id", "challenger", "job", "bond", "evidence", "status", "opened",
              "slashed"));
      return new Challenge(
          Fields.hash(m, "id"),
          Fields.address(m, "challenger"),
          Fields.hash(m, "job"),
          Fields.amount(m, "bond"),
          m.has("evidence") ? Optional.of(Fields.cid(m, "evidence")) : Optional.empty(),
          Status.ofLabel(m.getText("status")),
          Fields.amount(m, "opened"),
          Fields.amount(m, "slashed"));
    }
  }

  /**
   * The optimistic side of a job: the worker's trace commitment, the sample drawn for it, the
   * verifiers that attested it, the check pool that pays them, and how many disputes are open.
   * Keyed by the job id.
   *
   * @param committedHeight the block holding the commitment; the challenge window runs from it
   * @param seed the hash of the header of block {@code committedHeight + 1}, once known
   * @param sample whether the job was drawn and by whom; present together with {@code seed}
   * @param attesters verifiers that attested {@code trace.root()}, in order
   * @param checkPool escrowed by the worker at commitment: {@code verifiersPerSample x checkFee}
   * @param openDisputes disputes not yet decided
   */
  record Check(
      Hash job,
      Address worker,
      TraceCommitment trace,
      long committedHeight,
      Optional<Hash> seed,
      Optional<Sample> sample,
      List<Address> attesters,
      long checkPool,
      int openDisputes)
      implements StateRecord {
    public static final int MAX_VERIFIERS = 64;

    public Check {
      java.util.Objects.requireNonNull(job, "job");
      java.util.Objects.requireNonNull(worker, "worker");
      java.util.Objects.requireNonNull(trace, "trace");
      seed = seed == null ? Optional.empty() : seed;
      sample = sample == null ? Optional.empty() : sample;
      attesters = List.copyOf(attesters);
      nonNegative("commitment height", committedHeight);
      nonNegative("check pool", checkPool);
      nonNegative("open disputes", openDisputes);
      if (seed.isPresent() != sample.isPresent()) {
        throw new DecodingException("a job's sample is drawn exactly when its seed is known");
      }
      if (attesters.size() > MAX_VERIFIERS || sample.isPresent() && sample.get().verifiers().size() > MAX_VERIFIERS) {
        throw new DecodingException("at most " + MAX_VERIFIERS + " verifiers per job");
      }
      if (new java.util.HashSet<>(attesters).size() != attesters.size()) {
        throw new DecodingException("each verifier attests once");
      }
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.CHECK;
    }

    Check with(Optional<Hash> newSeed, Optional<Sample> newSample, List<Address> newAttesters,
        long newPool, int newOpen) {
      return new Check(job, worker, trace, committedHeight, newSeed, newSample, newAttesters, newPool, newOpen);
    }

    @Override
    public CborValue.Map toCbor() {
      CborValue.Map.Builder b = typed(kind())
          .put("job", Fields.bytes(job))
          .put("worker", Fields.bytes(worker))
          .put("trace", trace.toCbor())
          .put("height", committedHeight)
          .put("attesters", Fields.array(attesters, Fields::bytes))
          .put("pool", checkPool)
          .put("open", openDisputes);
      seed.ifPresent(h -> b.put("seed", Fields.bytes(h)));
      sample.ifPresent(sm -> b.put("sampled", sm.sampled())
          .put("verifiers", Fields.array(sm.verifiers(), Fields::bytes)));
      return b.build();
    }

    static Check fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "job", "worker", "trace", "height", "attesters", "pool", "open",
          "seed", "sampled", "verifiers"));
      if (m.has("sampled") != m.has("verifiers")) {
        throw new DecodingException("a sample has both 'sampled' and 'verifiers'");
      }
      return new Check(
          Fields.hash(m, "job"),
          Fields.address(m, "worker"),
          TraceCommitment.fromCbor(m.get("trace")),
          Fields.amount(m, "height"),
          m.has("seed") ? Optional.of(Fields.hash(m, "seed")) : Optional.empty(),
          m.has("sampled")
              ? Optional.of(new Sample(m.getBool("sampled"),
                  Fields.list(m, "verifiers", MAX_VERIFIERS, v -> Fields.addressValue(v, "verifier"))))
              : Optional.empty(),
          Fields.list(m, "attesters", MAX_VERIFIERS, v -> Fields.addressValue(v, "attester")),
          Fields.amount(m, "pool"),
          Fields.smallInt(m, "open", Integer.MAX_VALUE));
    }
  }

  /**
   * A dispute over an optimistic job's trace, opened by {@link Action.Challenge}. The game state:
   * the current subtree (leaves {@code from..to-1} of both trace trees, RFC 6962 shape) with each
   * party's hash of it, whose move it is and until when.
   *
   * <p>Phases: {@code WORKER_BISECT} (the worker reveals the two child hashes of its subtree), then
   * {@code CHALLENGER_BISECT} (the challenger reveals its own; the game descends into the leftmost
   * child where they differ); at a single leaf {@code i = from}, {@code WORKER_PROVE} (the worker
   * opens step i for the referee). An outputs claim starts in {@code WORKER_PROVE} with {@code
   * claim = OUTPUTS}. Decided: {@code WORKER_WON} (bond to the worker), {@code CHALLENGER_WON}
   * (worker slashed, job invalid) or {@code VOID} (the job was already found invalid in another
   * dispute; bond returned).
   *
   * @param deadlineMillis block time after which {@link Action.Timeout} decides against the party
   *     to move
   * @param moves moves made so far (bisections and the proof)
   * @param verdict why it was decided (empty while open)
   */
  record Dispute(
      Hash id,
      Hash job,
      Address worker,
      Address challenger,
      long bond,
      Claim claim,
      Hash workerRoot,
      Hash challengerRoot,
      int steps,
      int from,
      int to,
      Hash workerNode,
      Hash challengerNode,
      Optional<Hash> workerLeft,
      Optional<Hash> workerRight,
      Phase phase,
      long deadlineMillis,
      int moves,
      long openedHeight,
      long slashed,
      String verdict)
      implements StateRecord {
    public static final int MAX_VERDICT_CHARS = 512;

    /** What the challenger claims. */
    public enum Claim {
      /** The trace differs from the canonical run (roots or step counts differ). */
      TRACE,
      /** The trace is right but the outputs committed differ from it. */
      OUTPUTS;

      String label() {
        return name().toLowerCase(Locale.ROOT);
      }

      static Claim ofLabel(String s) {
        for (Claim c : values()) {
          if (c.label().equals(s)) {
            return c;
          }
        }
        throw new DecodingException("unknown dispute claim '" + s + "'");
      }
    }

    /** Whose move it is, or how the dispute ended. */
    public enum Phase {
      WORKER_BISECT,
      CHALLENGER_BISECT,
      WORKER_PROVE,
      WORKER_WON,
      CHALLENGER_WON,
      VOID;

      String label() {
        return name().toLowerCase(Locale.ROOT);
      }

      static Phase ofLabel(String s) {
        for (Phase p : values()) {
          if (p.label().equals(s)) {
            return p;
          }
        }
        throw new DecodingException("unknown dispute phase '" + s + "'");
      }

      /** Whether the dispute is over. */
      public boolean decided() {
        return this == WORKER_WON || this == CHALLENGER_WON || this == VOID;
      }
    }

    public Dispute {
      java.util.Objects.requireNonNull(id, "id");
      java.util.Objects.requireNonNull(job, "job");
      java.util.Objects.requireNonNull(worker, "worker");
      java.util.Objects.requireNonNull(challenger, "challenger");
      java.util.Objects.requireNonNull(claim, "claim");
      java.util.Objects.requireNonNull(workerRoot, "worker root");
      java.util.Objects.requireNonNull(challengerRoot, "challenger root");
      java.util.Objects.requireNonNull(workerNode, "worker node");
      java.util.Objects.requireNonNull(challengerNode, "challenger node");
      java.util.Objects.requireNonNull(phase, "phase");
      workerLeft = workerLeft == null ? Optional.empty() : workerLeft;
      workerRight = workerRight == null ? Optional.empty() : workerRight;
      verdict = verdict == null ? "" : verdict;
      nonNegative("bond", bond);
      TraceCommitment.checkSteps(steps);
      if (from < 0 || from >= to || to > steps) {
        throw new DecodingException("dispute range " + from + ".." + to + " is not inside 0.." + steps);
      }
      if (workerLeft.isPresent() != workerRight.isPresent()
          || workerLeft.isPresent() != (phase == Phase.CHALLENGER_BISECT)) {
        throw new DecodingException("the worker's child hashes are held exactly while the challenger bisects");
      }
      nonNegative("deadline", deadlineMillis);
      nonNegative("moves", moves);
      nonNegative("opening height", openedHeight);
      nonNegative("slashed amount", slashed);
      if (verdict.length() > MAX_VERDICT_CHARS) {
        throw new DecodingException("a verdict has at most " + MAX_VERDICT_CHARS + " characters");
      }
    }

    /** The leaf the game has narrowed down to (meaningful once {@code to - from == 1}). */
    public int step() {
      return from;
    }

    /** The party whose move it is, or empty once decided. */
    public Optional<Address> toMove() {
      return switch (phase) {
        case WORKER_BISECT, WORKER_PROVE -> Optional.of(worker);
        case CHALLENGER_BISECT -> Optional.of(challenger);
        default -> Optional.empty();
      };
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.DISPUTE;
    }

    @Override
    public CborValue.Map toCbor() {
      CborValue.Map.Builder b = typed(kind())
          .put("id", Fields.bytes(id))
          .put("job", Fields.bytes(job))
          .put("worker", Fields.bytes(worker))
          .put("challenger", Fields.bytes(challenger))
          .put("bond", bond)
          .put("claim", claim.label())
          .put("workerRoot", Fields.bytes(workerRoot))
          .put("challengerRoot", Fields.bytes(challengerRoot))
          .put("steps", steps)
          .put("from", from)
          .put("to", to)
          .put("workerNode", Fields.bytes(workerNode))
          .put("challengerNode", Fields.bytes(challengerNode))
          .put("phase", phase.label())
          .put("deadline", deadlineMillis)
          .put("moves", moves)
          .put("opened", openedHeight)
          .put("slashed", slashed)
          .put("verdict", verdict);
      workerLeft.ifPresent(h -> b.put("workerLeft", Fields.bytes(h)));
      workerRight.ifPresent(h -> b.put("workerRight", Fields.bytes(h)));
      return b.build();
    }

    static Dispute fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "id", "job", "worker", "challenger", "bond", "claim", "workerRoot",
          "challengerRoot", "steps", "from", "to", "workerNode", "challengerNode", "workerLeft",
          "workerRight", "phase", "deadline", "moves", "opened", "slashed", "verdict"));
      return new Dispute(
          Fields.hash(m, "id"),
          Fields.hash(m, "job"),
          Fields.address(m, "worker"),
          Fields.address(m, "challenger"),
          Fields.amount(m, "bond"),
          Claim.ofLabel(m.getText("claim")),
          Fields.hash(m, "workerRoot"),
          Fields.hash(m, "challengerRoot"),
          Fields.smallInt(m, "steps", TraceCommitment.MAX_STEPS),
          Fields.smallInt(m, "from", TraceCommitment.MAX_STEPS),
          Fields.smallInt(m, "to", TraceCommitment.MAX_STEPS),
          Fields.hash(m, "workerNode"),
          Fields.hash(m, "challengerNode"),
          m.has("workerLeft") ? Optional.of(Fields.hash(m, "workerLeft")) : Optional.empty(),
          m.has("workerRight") ? Optional.of(Fields.hash(m, "workerRight")) : Optional.empty(),
          Phase.ofLabel(m.getText("phase")),
          Fields.amount(m, "deadline"),
          Fields.smallInt(m, "moves", Integer.MAX_VALUE),
          Fields.amount(m, "opened"),
          Fields.amount(m, "slashed"),
          Fields.text(m, "verdict", MAX_VERDICT_CHARS));
    }
  }

  /**
   * The optimistic jobs whose trace commitments wait for their sampling seed: each was committed in
   * block {@code height}, and its seed is the hash of the header of block {@code height + 1}, which
   * block {@code height + 2} records when it begins. A singleton entry.
   */
  record Sampling(List<Pending> pending) implements StateRecord {
    public static final Sampling EMPTY = new Sampling(List.of());
    public static final int MAX_PENDING = 1 << 20;

    /** One job waiting for its seed. */
    public record Pending(long height, Hash job) {
      public Pending {
        nonNegative("height", height);
        java.util.Objects.requireNonNull(job, "job");
      }
    }

    public Sampling {
      pending = List.copyOf(pending);
      for (int i = 1; i < pending.size(); i++) {
        if (pending.get(i).height() < pending.get(i - 1).height()) {
          throw new DecodingException("pending samples are in height order");
        }
      }
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.SAMPLING;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind()).put("pending", Fields.array(pending, p -> CborValue.Map.builder()
          .put("height", p.height()).put("job", Fields.bytes(p.job())).build())).build();
    }

    static Sampling fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "pending"));
      return new Sampling(Fields.list(m, "pending", MAX_PENDING, v -> {
        CborValue.Map p = Fields.map(v, "pending sample").requireOnly(Set.of("height", "job"));
        return new Pending(Fields.amount(p, "height"), Fields.hash(p, "job"));
      }));
    }
  }

  /**
   * The operators of registered nodes with the verifier role, in ascending address order: the
   * candidates of every sample (each drawn with the weight of its bonded stake at the time). A
   * singleton entry kept by {@link Action.RegisterNode}.
   */
  record Verifiers(List<Address> operators) implements StateRecord {
    public static final Verifiers EMPTY = new Verifiers(List.of());
    public static final int MAX_VERIFIERS = 1 << 20;

    public Verifiers {
      operators = List.copyOf(operators);
      for (int i = 1; i < operators.size(); i++) {
        if (operators.get(i - 1).compareTo(operators.get(i)) >= 0) {
          throw new DecodingException("verifiers are listed once each, in address order");
        }
      }
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.VERIFIERS;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind()).put("operators", Fields.array(operators, Fields::bytes)).build();
    }

    static Verifiers fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "operators"));
      return new Verifiers(Fields.list(m, "operators", MAX_VERIFIERS, v -> Fields.addressValue(v, "operator")));
    }
  }

  /**
   * What an address's stake still backs, keyed by the address; absent until it first backs
   * something (entries are never removed, so later it may hold zeros). While {@link #locked()},
   * {@link Action.Withdraw} is refused, so stake cannot leave before the rulings it answers for
   * (Rule C). Kept by the state machine as jobs, disputes and contests begin and end.
   *
   * @param jobs optimistic jobs neither {@code FINAL} nor {@code INVALID} that the address committed
   *     as worker or attested as verifier (both are slashed if the job is shown wrong)
   * @param disputes open disputes of the dispute game and open contests against the address as
   *     worker
   * @param fees sum of the charges of the unfinalized optimistic jobs it committed as worker: the
   *     value in flight that {@link GenesisConfig#maxInFlightBps()} bounds (Rule B)
   */
  record Exposure(long jobs, long disputes, long fees) implements StateRecord {
    public static final Exposure NONE = new Exposure(0, 0, 0);

    public Exposure {
      nonNegative("unfinalized jobs", jobs);
      nonNegative("open disputes", disputes);
      nonNegative("fees in flight", fees);
    }

    /** Whether the stake still backs something that can be slashed later. */
    public boolean locked() {
      return jobs > 0 || disputes > 0;
    }

    Exposure plus(long dJobs, long dDisputes, long dFees) {
      long j = Math.addExact(jobs, dJobs);
      long d = Math.addExact(disputes, dDisputes);
      long f = Math.addExact(fees, dFees);
      if (j < 0 || d < 0 || f < 0) {
        throw new IllegalStateException("exposure " + this + " cannot change by (" + dJobs + ", "
            + dDisputes + ", " + dFees + ")");
      }
      return new Exposure(j, d, f);
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.EXPOSURE;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind()).put("jobs", jobs).put("disputes", disputes).put("fees", fees).build();
    }

    static Exposure fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "jobs", "disputes", "fees"));
      return new Exposure(Fields.amount(m, "jobs"), Fields.amount(m, "disputes"), Fields.amount(m, "fees"));
    }
  }

  /**
   * The last block height the chain must reach without traffic so that the next transaction's
   * block can act on a height-counted deadline: the last block of an optimistic job's challenge
   * window (and reveal period), after which a {@code Finalize} is valid, and the block before
   * unbonding stake is released, after which a {@code Withdraw} is. Heights only advance with
   * blocks, so the sequencer seals empty blocks while its chain is below this height, and windows
   * close, jobs can be finalized and stake withdrawn on an idle chain. A singleton entry.
   */
  record Horizon(long height) implements StateRecord {
    public Horizon {
      nonNegative("horizon height", height);
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.HORIZON;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind()).put("height", height).build();
    }

    static Horizon fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "height"));
      return new Horizon(Fields.amount(m, "height"));
    }
  }

  /**
   * Money created and destroyed since genesis. Total supply is {@code minted - burned}: genesis
   * allocations and the dev faucet mint; slashing burns what is not paid out.
   */
  record Supply(long minted, long burned) implements StateRecord {
    public Supply {
      nonNegative("minted", minted);
      nonNegative("burned", burned);
      if (burned > minted) {
        throw new DecodingException("more burned than ever minted");
      }
    }

    public long total() {
      return minted - burned;
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.SUPPLY;
    }

    @Override
    public CborValue.Map toCbor() {
      return typed(kind()).put("minted", minted).put("burned", burned).build();
    }

    static Supply fromCbor(CborValue.Map m) {
      m.requireOnly(Set.of("type", "minted", "burned"));
      return new Supply(Fields.amount(m, "minted"), Fields.amount(m, "burned"));
    }
  }

  /** Roles in enum order, for canonical encodings. */
  static List<NodeRole> sortedRoles(Set<NodeRole> roles) {
    return new ArrayList<>(roles.isEmpty() ? EnumSet.noneOf(NodeRole.class) : EnumSet.copyOf(roles));
  }
}
