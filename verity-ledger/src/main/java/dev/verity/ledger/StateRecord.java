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
   * be {@code CHALLENGED}; the authority's verdict returns it to {@code SETTLED} or makes it {@code
   * INVALID} (worker slashed, client refunded).
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
      int receipts)
      implements StateRecord {
    /** Where a job is in its life cycle. */
    public enum Status {
      OPEN,
      SETTLED,
      FAILED,
      CHALLENGED,
      INVALID;

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
    }

    @Override
    public StateKey.Kind kind() {
      return StateKey.Kind.JOB;
    }

    Job withStatus(Status s) {
      return new Job(
          id, client, model, modelOwner, modelPrice, worker, inferences, escrow, s, openedHeight,
          expiresHeight, charged, settledHeight, receipts);
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
      return b.build();
    }

    static Job fromCbor(CborValue.Map m) {
      m.requireOnly(
          Set.of(
              "type", "id", "client", "model", "owner", "price", "worker", "inferences", "escrow",
              "status", "opened", "expires", "charged", "settled", "receipts"));
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
          Fields.smallInt(m, "receipts", Action.OpenJob.MAX_INFERENCES));
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
   * A challenge against a settled job, backed by a bond. {@code OPEN} until the authority
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
