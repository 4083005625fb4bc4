package dev.verity.ledger;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.PublicKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The rules a chain starts with. Stored in the state under {@link StateKey#CONFIG}, so a light
 * client can prove every parameter against a state root. Immutable and validated: shares are basis
 * points (1/100 of a percent), periods are counted in blocks, amounts in the smallest unit.
 *
 * @param chainId names the network; every transaction carries it, so a transaction signed for one
 *     network is rejected on every other
 * @param devNetwork enables the faucet; never set on a network that holds real value
 * @param genesisTimeMillis the time stamped in the genesis header
 * @param sequencer the only key that signs blocks
 * @param authority the key that resolves contests of jobs without a trace commitment
 * @param treasury receives transaction fees and the protocol's share of job fees
 * @param allocations balances minted at genesis
 * @param minFee the least fee any transaction must pay
 * @param unbondingBlocks blocks between beginning to unstake and being able to withdraw
 * @param challengeWindowBlocks blocks after settlement (or after an optimistic job's commitment)
 *     during which a job can be challenged. Validated: {@code unbondingBlocks >=
 *     challengeWindowBlocks + 1}. A node takes no new jobs once it began unbonding, so every job
 *     it settled was settled at or before that block {@code b}; its stake is withdrawable from
 *     {@code b + unbondingBlocks}, after the last block {@code b + challengeWindowBlocks} in which
 *     such a job can be contested. Optimistic jobs and disputes lock the stake until they end
 *     ({@link StateRecord.Exposure}), so the longest dispute needs no extra unbonding time
 * @param minNodeStake bonded stake a node operator must hold to register
 * @param jobTimeoutBlocks blocks after which the client of an unsettled job may reclaim its escrow
 * @param verifierShareBps share of the operator fee paid to the verifiers named at settlement
 * @param protocolShareBps share of the operator fee paid to the treasury
 * @param slashBps share of a guilty worker's stake that is slashed
 * @param challengerRewardBps share of the slashed amount left after refunding the client that
 *     rewards the challenger; the rest is burned
 * @param minChallengeBond the least bond a challenge must post
 * @param faucetMaxPerTx the most one faucet transaction mints (dev networks only)
 * @param samplingPpm the network's sampling rate for optimistic jobs, in parts per million; a job
 *     may raise its own ({@link Action.OpenJob#samplingPpm()})
 * @param verifiersPerSample verifiers drawn (stake-weighted) for each sampled job
 * @param checkFee paid at finality to each assigned verifier that attested the job, from the check
 *     pool the worker escrows at commitment ({@code verifiersPerSample x checkFee})
 * @param disputeMoveMillis time (block time) each party has for a dispute move; 0 disables
 *     optimistic disputes. The four optimistic parameters are encoded only when not 0, so a
 *     configuration without them keeps its encoding and hash.
 * @param maxInFlightBps bound on the value in flight (Rule B): a trace commitment is refused if
 *     the charges of the worker's optimistic jobs not yet final or invalid, this one included,
 *     would exceed this share of its slashable (bonded + unbonding) stake; 0 (the default) turns
 *     the bound off. Encoded only when not 0.
 */
public record GenesisConfig(
    String chainId,
    boolean devNetwork,
    long genesisTimeMillis,
    PublicKey sequencer,
    PublicKey authority,
    Address treasury,
    SortedMap<Address, Long> allocations,
    long minFee,
    long unbondingBlocks,
    long challengeWindowBlocks,
    long minNodeStake,
    long jobTimeoutBlocks,
    int verifierShareBps,
    int protocolShareBps,
    int slashBps,
    int challengerRewardBps,
    long minChallengeBond,
    long faucetMaxPerTx,
    int samplingPpm,
    int verifiersPerSample,
    long checkFee,
    long disputeMoveMillis,
    int maxInFlightBps)
    implements StateRecord {
  public static final int MAX_ALLOCATIONS = 100_000;
  public static final int MAX_CHAIN_ID_CHARS = 64;

  public GenesisConfig {
    if (chainId == null || chainId.isEmpty() || chainId.length() > MAX_CHAIN_ID_CHARS
        || !chainId.matches("[a-z0-9][a-z0-9.-]*")) {
      throw new DecodingException(
          "chain id must be 1.." + MAX_CHAIN_ID_CHARS
              + " characters of a-z, 0-9, '.' and '-', got '" + chainId + "'");
    }
    java.util.Objects.requireNonNull(sequencer, "sequencer key");
    java.util.Objects.requireNonNull(authority, "authority key");
    java.util.Objects.requireNonNull(treasury, "treasury address");
    if (allocations.size() > MAX_ALLOCATIONS) {
      throw new DecodingException("at most " + MAX_ALLOCATIONS + " genesis allocations");
    }
    long total = 0;
    for (Map.Entry<Address, Long> e : allocations.entrySet()) {
      if (e.getValue() <= 0) {
        throw new DecodingException("genesis allocation to " + e.getKey() + " must be positive");
      }
      try {
        total = Math.addExact(total, e.getValue());
      } catch (ArithmeticException ex) {
        throw new DecodingException("genesis allocations add up to more than " + Long.MAX_VALUE);
      }
    }
    allocations = Collections.unmodifiableSortedMap(new TreeMap<>(allocations));
    requireRange("genesis time", genesisTimeMillis, 0, Long.MAX_VALUE);
    requireRange("minimum fee", minFee, 0, Long.MAX_VALUE);
    requireRange("unbonding period", unbondingBlocks, 1, 1L << 40);
    if (challengeWindowBlocks < 0 || challengeWindowBlocks >= unbondingBlocks) {
      throw new DecodingException("challenge window must be in 0.." + (unbondingBlocks - 1)
          + " blocks (the unbonding period must outlast it: unbonding >= challenge window + 1), got "
          + challengeWindowBlocks + " with an unbonding period of " + unbondingBlocks);
    }
    requireRange("minimum node stake", minNodeStake, 0, Long.MAX_VALUE);
    requireRange("job timeout", jobTimeoutBlocks, 1, 1L << 40);
    requireRange("verifier share", verifierShareBps, 0, 10_000);
    requireRange("protocol share", protocolShareBps, 0, 10_000 - verifierShareBps);
    requireRange("slash share", slashBps, 0, 10_000);
    requireRange("challenger reward share", challengerRewardBps, 0, 10_000);
    requireRange("minimum challenge bond", minChallengeBond, 0, Long.MAX_VALUE);
    requireRange("faucet limit", faucetMaxPerTx, 0, Long.MAX_VALUE);
    requireRange("sampling rate", samplingPpm, 0, Action.OpenJob.PPM);
    requireRange("verifiers per sample", verifiersPerSample, 0, StateRecord.Check.MAX_VERIFIERS);
    requireRange("check fee", checkFee, 0, Long.MAX_VALUE / StateRecord.Check.MAX_VERIFIERS);
    requireRange("dispute move time", disputeMoveMillis, 0, 1L << 40);
    requireRange("value in flight bound (basis points of stake)", maxInFlightBps, 0, 10_000);
  }

  /** A configuration without a value-in-flight bound ({@code maxInFlightBps} 0). */
  public GenesisConfig(String chainId, boolean devNetwork, long genesisTimeMillis, PublicKey sequencer,
      PublicKey authority, Address treasury, SortedMap<Address, Long> allocations, long minFee,
      long unbondingBlocks, long challengeWindowBlocks, long minNodeStake, long jobTimeoutBlocks,
      int verifierShareBps, int protocolShareBps, int slashBps, int challengerRewardBps,
      long minChallengeBond, long faucetMaxPerTx, int samplingPpm, int verifiersPerSample,
      long checkFee, long disputeMoveMillis) {
    this(chainId, devNetwork, genesisTimeMillis, sequencer, authority, treasury, allocations, minFee,
        unbondingBlocks, challengeWindowBlocks, minNodeStake, jobTimeoutBlocks, verifierShareBps,
        protocolShareBps, slashBps, challengerRewardBps, minChallengeBond, faucetMaxPerTx,
        samplingPpm, verifiersPerSample, checkFee, disputeMoveMillis, 0);
  }

  /** Whether optimistic jobs can be disputed on this chain. */
  public boolean optimistic() {
    return disputeMoveMillis > 0;
  }

  private static void requireRange(String what, long v, long min, long max) {
    if (v < min || v > max) {
      throw new DecodingException(what + " must be in " + min + ".." + max + ", got " + v);
    }
  }

  /** Sum of all genesis allocations: the initial supply. */
  public long initialSupply() {
    long total = 0;
    for (long v : allocations.values()) {
      total += v; // cannot overflow: checked on construction
    }
    return total;
  }

  /** SHA-256 of the canonical encoding; names this exact configuration. */
  public Hash hash() {
    return Hash.tagged("verity/genesis", encode());
  }

  @Override
  public StateKey.Kind kind() {
    return StateKey.Kind.CONFIG;
  }

  @Override
  public CborValue.Map toCbor() {
    List<CborValue> allocs = new ArrayList<>(allocations.size());
    for (Map.Entry<Address, Long> e : allocations.entrySet()) {
      allocs.add(
          CborValue.Map.builder()
              .put("to", Fields.bytes(e.getKey()))
              .put("amount", e.getValue())
              .build());
    }
    CborValue.Map.Builder b = CborValue.Map.builder()
        .put("type", kind().label())
        .put("v", 1)
        .put("chain", chainId)
        .put("dev", devNetwork)
        .put("time", genesisTimeMillis)
        .put("sequencer", Fields.bytes(sequencer))
        .put("authority", Fields.bytes(authority))
        .put("treasury", Fields.bytes(treasury))
        .put("allocations", new CborValue.Array(allocs))
        .put("minFee", minFee)
        .put("unbonding", unbondingBlocks)
        .put("challengeWindow", challengeWindowBlocks)
        .put("minNodeStake", minNodeStake)
        .put("jobTimeout", jobTimeoutBlocks)
        .put("verifierBps", verifierShareBps)
        .put("protocolBps", protocolShareBps)
        .put("slashBps", slashBps)
        .put("rewardBps", challengerRewardBps)
        .put("minBond", minChallengeBond)
        .put("faucetMax", faucetMaxPerTx);
    if (samplingPpm != 0) {
      b.put("samplingPpm", samplingPpm);
    }
    if (verifiersPerSample != 0) {
      b.put("verifiersPerSample", verifiersPerSample);
    }
    if (checkFee != 0) {
      b.put("checkFee", checkFee);
    }
    if (disputeMoveMillis != 0) {
      b.put("disputeMove", disputeMoveMillis);
    }
    if (maxInFlightBps != 0) {
      b.put("inFlightBps", maxInFlightBps);
    }
    return b.build();
  }

  /** Decodes a configuration from its canonical encoding. */
  public static GenesisConfig decode(byte[] bytes) {
    return fromCbor(Cbor.decodeMap(bytes));
  }

  static GenesisConfig fromCbor(CborValue.Map m) {
    m.requireOnly(
        Set.of(
            "type", "v", "chain", "dev", "time", "sequencer", "authority", "treasury",
            "allocations", "minFee", "unbonding", "challengeWindow", "minNodeStake", "jobTimeout",
            "verifierBps", "protocolBps", "slashBps", "rewardBps", "minBond", "faucetMax",
            "samplingPpm", "verifiersPerSample", "checkFee", "disputeMove", "inFlightBps"));
    if (!m.getText("type").equals(StateKey.Kind.CONFIG.label())) {
      throw new DecodingException("not a genesis configuration");
    }
    if (m.getLong("v") != 1) {
      throw new DecodingException("unsupported genesis configuration version " + m.getLong("v"));
    }
    TreeMap<Address, Long> allocs = new TreeMap<>();
    Address previous = null;
    for (CborValue v : Fields.list(m, "allocations", MAX_ALLOCATIONS, v -> v)) {
      CborValue.Map a = Fields.map(v, "allocation").requireOnly(Set.of("to", "amount"));
      Address to = Fields.address(a, "to");
      if (previous != null && previous.compareTo(to) >= 0) {
        throw new DecodingException("genesis allocations must be sorted by address, without repeats");
      }
      previous = to;
      allocs.put(to, a.getLong("amount"));
    }
    return new GenesisConfig(
        Fields.text(m, "chain", MAX_CHAIN_ID_CHARS),
        m.getBool("dev"),
        m.getLong("time"),
        Fields.publicKey(m, "sequencer"),
        Fields.publicKey(m, "authority"),
        Fields.address(m, "treasury"),
        allocs,
        m.getLong("minFee"),
        m.getLong("unbonding"),
        m.getLong("challengeWindow"),
        m.getLong("minNodeStake"),
        m.getLong("jobTimeout"),
        m.getInt("verifierBps"),
        m.getInt("protocolBps"),
        m.getInt("slashBps"),
        m.getInt("rewardBps"),
        m.getLong("minBond"),
        m.getLong("faucetMax"),
        m.has("samplingPpm") ? positiveInt(m, "samplingPpm") : 0,
        m.has("verifiersPerSample") ? positiveInt(m, "verifiersPerSample") : 0,
        m.has("checkFee") ? positiveLong(m, "checkFee") : 0,
        m.has("disputeMove") ? positiveLong(m, "disputeMove") : 0,
        m.has("inFlightBps") ? positiveInt(m, "inFlightBps") : 0);
  }

  /** An optional field is omitted when 0, so a present one must not be 0 (one encoding only). */
  private static long positiveLong(CborValue.Map m, String key) {
    long v = m.getLong(key);
    if (v <= 0) {
      throw new DecodingException("field '" + key + "' is omitted when 0 and must be positive when present, got " + v);
    }
    return v;
  }

  private static int positiveInt(CborValue.Map m, String key) {
    long v = positiveLong(m, key);
    if (v > Integer.MAX_VALUE) {
      throw new DecodingException("field '" + key + "' is too large: " + v);
    }
    return (int) v;
  }

  /** A builder starting from conservative defaults; sequencer, authority and treasury are required. */
  public static Builder builder(String chainId) {
    return new Builder(chainId);
  }

  /** Collects parameters; {@link #build()} validates them. */
  public static final class Builder {
    private final String chainId;
    private boolean devNetwork;
    private long genesisTimeMillis;
    private PublicKey sequencer;
    private PublicKey authority;
    private Address treasury;
    private final TreeMap<Address, Long> allocations = new TreeMap<>();
    private long minFee = 1;
    private long unbondingBlocks = 100;
    private long challengeWindowBlocks = 50;
    private long minNodeStake = 1_000;
    private long jobTimeoutBlocks = 100;
    private int verifierShareBps = 1_000;
    private int protocolShareBps = 500;
    private int slashBps = 5_000;
    private int challengerRewardBps = 5_000;
    private long minChallengeBond = 100;
    private long faucetMaxPerTx = 1_000_000;
    private int samplingPpm = 50_000;
    private int verifiersPerSample = 2;
    private long checkFee = 10;
    private long disputeMoveMillis = 30_000;
    private int maxInFlightBps;

    private Builder(String chainId) {
      this.chainId = chainId;
    }

    public Builder devNetwork(boolean dev) {
      this.devNetwork = dev;
      return this;
    }

    public Builder genesisTime(long millis) {
      this.genesisTimeMillis = millis;
      return this;
    }

    public Builder sequencer(PublicKey key) {
      this.sequencer = key;
      return this;
    }

    public Builder authority(PublicKey key) {
      this.authority = key;
      return this;
    }

    public Builder treasury(Address address) {
      this.treasury = address;
      return this;
    }

    public Builder allocate(Address to, long amount) {
      allocations.merge(to, amount, Math::addExact);
      return this;
    }

    public Builder minFee(long v) {
      this.minFee = v;
      return this;
    }

    public Builder unbondingBlocks(long v) {
      this.unbondingBlocks = v;
      return this;
    }

    public Builder challengeWindowBlocks(long v) {
      this.challengeWindowBlocks = v;
      return this;
    }

    public Builder minNodeStake(long v) {
      this.minNodeStake = v;
      return this;
    }

    public Builder jobTimeoutBlocks(long v) {
      this.jobTimeoutBlocks = v;
      return this;
    }

    public Builder shares(int verifierBps, int protocolBps) {
      this.verifierShareBps = verifierBps;
      this.protocolShareBps = protocolBps;
      return this;
    }

    public Builder slashing(int slashBps, int challengerRewardBps, long minChallengeBond) {
      this.slashBps = slashBps;
      this.challengerRewardBps = challengerRewardBps;
      this.minChallengeBond = minChallengeBond;
      return this;
    }

    public Builder faucetMaxPerTx(long v) {
      this.faucetMaxPerTx = v;
      return this;
    }

    /**
     * Optimistic verification: network sampling rate (ppm), verifiers drawn per sampled job, fee per
     * attestation, and time per dispute move (0 disables optimistic disputes).
     */
    public Builder optimistic(int samplingPpm, int verifiersPerSample, long checkFee, long disputeMoveMillis) {
      this.samplingPpm = samplingPpm;
      this.verifiersPerSample = verifiersPerSample;
      this.checkFee = checkFee;
      this.disputeMoveMillis = disputeMoveMillis;
      return this;
    }

    /**
     * Rule B: the charges of a worker's unfinalized optimistic jobs may be at most this share of
     * its slashable stake, in basis points (the economics suggest about 6,300); 0 turns it off.
     */
    public Builder maxInFlightBps(int bps) {
      this.maxInFlightBps = bps;
      return this;
    }

    public GenesisConfig build() {
      return new GenesisConfig(
          chainId, devNetwork, genesisTimeMillis, sequencer, authority, treasury, allocations,
          minFee, unbondingBlocks, challengeWindowBlocks, minNodeStake, jobTimeoutBlocks,
          verifierShareBps, protocolShareBps, slashBps, challengerRewardBps, minChallengeBond,
          faucetMaxPerTx, samplingPpm, verifiersPerSample, checkFee, disputeMoveMillis,
          maxInFlightBps);
    }
  }
}
