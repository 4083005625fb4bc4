package dev.verity.protocol;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import dev.verity.protocol.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The signed description of one immutable version of a model: which bytes (model CID), what goes in
 * and out, under which terms (licence, price, allowed verification modes, visibility), signed by
 * the repository's owner or by a key the owner delegated. Its {@link #cid()} names it everywhere:
 * receipts, ledger entries and proofs refer to a model version by manifest CID.
 *
 * <p>Build with {@link #builder()}; {@link Builder#sign} validates every field at once. Decoding
 * ({@link #decode}) is strict and does not check the signature; call {@link #verify()} for that.
 */
public final class ModelManifest {
  public static final int FORMAT_VERSION = 1;
  static final String DOMAIN = "verity/manifest/v1";
  private static final Set<String> FIELDS =
      Set.of("v", "owner", "repository", "version", "model", "model_size", "format", "opsets",
          "inputs", "outputs", "task", "license", "description", "tags", "price", "modes",
          "visibility", "allow", "created", "publisher", "delegation", Signing.SIGNATURE_FIELD);

  /** Who may run a model version. */
  public enum Visibility {
    PUBLIC,
    PRIVATE
  }

  private final CborValue.Map body;
  private final byte[] signature;
  private final byte[] encoded;
  private final Cid cid;
  private final PublicKey owner;
  private final String repository;
  private final String version;
  private final Cid model;
  private final long modelSize;
  private final String format;
  private final SortedMap<String, Long> opsets;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final String task;
  private final String license;
  private final String description;
  private final List<String> tags;
  private final long price;
  private final Set<VerificationMode> modes;
  private final Visibility visibility;
  private final List<Address> allowList;
  private final long createdAtMillis;
  private final PublicKey publisher;
  private final Optional<Delegation> delegation;
  /**
   * Whether {@link #verify()} has succeeded on this instance. Every field is final and the check
   * reads nothing else (no clock, no trust store), so its outcome cannot change; a failure is never
   * remembered and is found again on the next call.
   */
  private volatile boolean verified;

  private ModelManifest(CborValue.Map signed) {
    signed.requireOnly(FIELDS);
    if (signed.getLong("v") != FORMAT_VERSION) {
      throw new DecodingException("unsupported manifest format version " + signed.getLong("v"));
    }
    this.body = Signing.body(signed);
    this.signature = signed.getBytes(Signing.SIGNATURE_FIELD);
    this.encoded = Cbor.encode(signed);
    // Named by clients and nodes on every inference (receipts bind to it): hashed once.
    this.cid = Cid.dagCbor(encoded);
    this.owner = PublicKey.fromBytes(signed.getBytes("owner"));
    this.repository = Names.repository(signed.getText("repository"));
    this.version = Names.version(signed.getText("version"));
    this.model = Cid.fromBytes(signed.getBytes("model"));
    this.modelSize = nonNegative("model_size", signed.getLong("model_size"));
    this.format = signed.getText("format");
    if (!format.equals("onnx")) {
      throw new DecodingException("unsupported model format '" + format + "'");
    }
    TreeMap<String, Long> ops = new TreeMap<>();
    signed.getMap("opsets").entries().forEach((k, v) -> {
      if (!(v instanceof CborValue.Int i) || i.value() < 1) {
        throw new DecodingException("opset versions must be positive integers");
      }
      ops.put(k, i.value());
    });
    this.opsets = java.util.Collections.unmodifiableSortedMap(ops);
    this.inputs = specs(signed, "inputs");
    this.outputs = specs(signed, "outputs");
    if (inputs.isEmpty() || outputs.isEmpty()) {
      throw new DecodingException("a model needs at least one input and one output");
    }
    this.task = Names.text("task", signed.getText("task"), 64);
    this.license = Names.text("license", signed.getText("license"), 200);
    this.description = Names.text("description", signed.getText("description"), 4000);
    List<String> t = signed.getTextList("tags");
    if (t.size() > 32) {
      throw new DecodingException("at most 32 tags");
    }
    t.forEach(Names::tag);
    this.tags = List.copyOf(t);
    this.price = nonNegative("price", signed.getLong("price"));
    EnumSet<VerificationMode> m = EnumSet.noneOf(VerificationMode.class);
    for (String s : signed.getTextList("modes")) {
      if (!m.add(VerificationMode.fromWireName(s))) {
        throw new DecodingException("mode '" + s + "' listed twice");
      }
    }
    if (m.isEmpty()) {
      throw new DecodingException("a manifest must allow at least one verification mode");
    }
    this.modes = java.util.Collections.unmodifiableSet(m);
    this.visibility = switch (signed.getText("visibility")) {
      case "public" -> Visibility.PUBLIC;
      case "private" -> Visibility.PRIVATE;
      default -> throw new DecodingException("visibility must be 'public' or 'private'");
    };
    List<Address> allow = new ArrayList<>();
    for (CborValue v : signed.getArray("allow")) {
      if (!(v instanceof CborValue.Bytes b)) {
        throw new DecodingException("allow-list entries must be addresses");
      }
      allow.add(Address.fromBytes(b.value()));
    }
    if (visibility == Visibility.PUBLIC && !allow.isEmpty()) {
      throw new DecodingException("a public model has no allow-list");
    }
    if (allow.size() > 1024) {
      throw new DecodingException("allow-list longer than 1024 addresses");
    }
    this.allowList = List.copyOf(allow);
    this.createdAtMillis = nonNegative("created", signed.getLong("created"));
    this.publisher = PublicKey.fromBytes(signed.getBytes("publisher"));
    this.delegation = signed.has("delegation")
        ? Optional.of(Delegation.fromCbor(signed.getMap("delegation")))
        : Optional.empty();
    if (publisher.equals(owner) && delegation.isPresent()) {
      throw new DecodingException("the owner publishes without a delegation");
    }
    if (!publisher.equals(owner) && delegation.isEmpty()) {
      throw new DecodingException("a publisher other than the owner must carry the owner's delegation");
    }
  }

  private static long nonNegative(String field, long v) {
    if (v < 0) {
      throw new DecodingException(field + " must not be negative");
    }
    return v;
  }

  private static List<TensorSpec> specs(CborValue.Map m, String field) {
    List<CborValue> items = m.getArray(field);
    if (items.size() > 256) {
      throw new DecodingException("more than 256 " + field);
    }
    List<TensorSpec> out = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    for (CborValue v : items) {
      if (!(v instanceof CborValue.Map sm)) {
        throw new DecodingException(field + " entries must be maps");
      }
      TensorSpec s = TensorSpec.fromCbor(sm);
      if (!names.add(s.name())) {
        throw new DecodingException(field + " name '" + s.name() + "' appears twice");
      }
      out.add(s);
    }
    return List.copyOf(out);
  }

  /** Decodes a manifest from its canonical bytes; strict, but does not verify the signature. */
  public static ModelManifest decode(byte[] bytes) {
    return new ModelManifest(Cbor.decodeMap(bytes));
  }

  /**
   * Checks the signature, and that the publisher is the owner or holds a delegation from the owner
   * for this repository that was valid when the manifest was created.
   *
   * <p>The outcome depends only on this immutable manifest, so a success is remembered: callers
   * that check the same instance for every receipt (a client's cached manifest) pay for the
   * Ed25519 verification once.
   */
  public void verify() throws VerificationException {
    if (verified) {
      return;
    }
    if (!publisher.equals(owner)) {
      delegation.orElseThrow().verify(owner, repository, createdAtMillis);
      if (!delegation.get().delegate().equals(publisher)) {
        throw new VerificationException("the delegation names another key than the publisher");
      }
    }
    Signing.verify(DOMAIN, body, signature, publisher);
    verified = true;
  }

  public Cid cid() {
    return cid;
  }

  public byte[] encode() {
    return encoded.clone();
  }

  /** "owner-address/repository". */
  public String repositoryId() {
    return owner.address() + "/" + repository;
  }

  public PublicKey owner() { return owner; }
  public Address ownerAddress() { return owner.address(); }
  public String repository() { return repository; }
  public String version() { return version; }
  public Cid model() { return model; }
  public long modelSize() { return modelSize; }
  public String format() { return format; }
  public SortedMap<String, Long> opsets() { return opsets; }
  public List<TensorSpec> inputs() { return inputs; }
  public List<TensorSpec> outputs() { return outputs; }
  public String task() { return task; }
  public String license() { return license; }
  public String description() { return description; }
  public List<String> tags() { return tags; }
  public long price() { return price; }
  public Set<VerificationMode> modes() { return modes; }
  public Visibility visibility() { return visibility; }
  public List<Address> allowList() { return allowList; }
  public long createdAtMillis() { return createdAtMillis; }
  public PublicKey publisher() { return publisher; }
  public Optional<Delegation> delegation() { return delegation; }

  /** Whether {@code caller} may run this version (always for public ones). */
  public boolean allows(Optional<Address> caller) {
    return visibility == Visibility.PUBLIC || caller.map(allowList::contains).orElse(false);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelManifest m && java.util.Arrays.equals(encoded, m.encoded);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(encoded);
  }

  @Override
  public String toString() {
    return "ModelManifest[" + repositoryId() + "@" + version + " " + cid() + "]";
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Collects the fields of a new version; {@link #sign} validates them all and signs. */
  public static final class Builder {
    private PublicKey owner;
    private String repository;
    private String version;
    private Cid model;
    private long modelSize = -1;
    private SortedMap<String, Long> opsets = new TreeMap<>();
    private List<TensorSpec> inputs = List.of();
    private List<TensorSpec> outputs = List.of();
    private String task = "";
    private String license = "";
    private String description = "";
    private List<String> tags = List.of();
    private long price;
    private Set<VerificationMode> modes = EnumSet.of(VerificationMode.RECEIPT);
    private Visibility visibility = Visibility.PUBLIC;
    private List<Address> allowList = List.of();
    private long createdAtMillis = -1;
    private Delegation delegation;

    public Builder owner(PublicKey v) { owner = v; return this; }
    public Builder repository(String v) { repository = v; return this; }
    public Builder version(String v) { version = v; return this; }
    public Builder model(Cid cid, long size) { model = cid; modelSize = size; return this; }
    public Builder opsets(java.util.Map<String, Long> v) { opsets = new TreeMap<>(v); return this; }
    public Builder inputs(List<TensorSpec> v) { inputs = List.copyOf(v); return this; }
    public Builder outputs(List<TensorSpec> v) { outputs = List.copyOf(v); return this; }
    public Builder task(String v) { task = v; return this; }
    public Builder license(String v) { license = v; return this; }
    public Builder description(String v) { description = v; return this; }
    public Builder tags(List<String> v) { tags = List.copyOf(v); return this; }
    public Builder price(long v) { price = v; return this; }
    public Builder modes(Set<VerificationMode> v) {
      // EnumSet.copyOf refuses an empty plain set; sign() reports an empty one clearly instead.
      modes = EnumSet.noneOf(VerificationMode.class);
      modes.addAll(v);
      return this;
    }
    public Builder visibility(Visibility v, List<Address> allow) { visibility = v; allowList = List.copyOf(allow); return this; }
    public Builder createdAtMillis(long v) { createdAtMillis = v; return this; }
    /** Publishing with a delegate key: the owner's grant. */
    public Builder delegation(Delegation v) { delegation = v; return this; }

    /**
     * Validates every field and signs with {@code publisher} (the owner, or the delegate named by
     * {@link #delegation}).
     */
    public ModelManifest sign(Signer publisher) {
      if (owner == null) {
        owner = publisher.publicKey();
      }
      java.util.Objects.requireNonNull(model, "model CID");
      CborValue.Map.Builder b = CborValue.Map.builder()
          .put("v", FORMAT_VERSION)
          .put("owner", owner.toBytes())
          .put("repository", Names.repository(repository))
          .put("version", Names.version(version))
          .put("model", model.toBytes())
          .put("model_size", modelSize)
          .put("format", "onnx")
          .put("task", task)
          .put("license", license)
          .put("description", description)
          .putTextList("tags", tags)
          .put("price", price)
          .putTextList("modes", modes.stream().map(VerificationMode::wireName).toList())
          .put("visibility", visibility == Visibility.PUBLIC ? "public" : "private")
          .put("allow", new CborValue.Array(allowList.stream().map(a -> (CborValue) new CborValue.Bytes(a.toBytes())).toList()))
          .put("created", createdAtMillis < 0 ? System.currentTimeMillis() : createdAtMillis)
          .put("publisher", publisher.publicKey().toBytes());
      CborValue.Map.Builder ops = CborValue.Map.builder();
      opsets.forEach((k, v) -> ops.put(k, v));
      b.put("opsets", ops.build());
      b.put("inputs", new CborValue.Array(inputs.stream().map(s -> (CborValue) s.toCbor()).toList()));
      b.put("outputs", new CborValue.Array(outputs.stream().map(s -> (CborValue) s.toCbor()).toList()));
      if (delegation != null) {
        b.put("delegation", delegation.toCbor());
      }
      ModelManifest m = new ModelManifest(Signing.sign(DOMAIN, b.build(), publisher));
      try {
        m.verify();
      } catch (VerificationException e) {
        throw new IllegalArgumentException("manifest does not verify: " + e.getMessage(), e);
      }
      return m;
    }
  }
}
