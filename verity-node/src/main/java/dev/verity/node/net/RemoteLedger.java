package dev.verity.node.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.ledger.Block;
import dev.verity.ledger.BlockFeeds;
import dev.verity.ledger.BlockHeader;
import dev.verity.ledger.Chain;
import dev.verity.ledger.Committed;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.Ledger;
import dev.verity.ledger.LedgerState;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.ReceiptProof;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.TransactionRejected;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The ledger of a sequencer node reached over its HTTP ledger API ({@code /v1/ledger}), for a node
 * that runs with {@code ledger = remote}. It trusts only the genesis (its chain id and sequencer
 * key), never the transport: it follows the chain block by block, and accepts a block only if the
 * genesis sequencer signed its header, it links to the block before, and re-executing its
 * transactions on the state it holds gives exactly the header's state, transaction and receipt
 * roots ({@link Chain#applyBlock}). Reads are then answered from that verified state, so a {@link
 * #view()} is a consistent snapshot whose proofs verify against a header the sequencer signed, and
 * it costs no network round trip.
 *
 * <p>Following: one background thread asks the sequencer for the blocks after the last one it
 * holds ({@code GET /v1/ledger/sync}, a long poll that answers as soon as a block is committed).
 * If the sequencer is unreachable it keeps trying; if it serves a block that does not verify, the
 * follower stops, logs why, and every later submission fails with {@code UNAVAILABLE}, while the
 * state verified so far stays readable.
 *
 * <p>Submitting ({@link #submit}) queues the signed transaction; one thread sends the queue to the
 * sequencer in order, in batches ({@code POST /v1/ledger/transactions/batch}, which the sequencer
 * submits in order, so one sender's transactions stay ordered as submitted). A future completes
 * once this ledger has itself verified the block that holds the transaction at the position the
 * sequencer reported, so a caller reads its own writes from {@link #view()} at once. Rejections
 * carry the sequencer's reason.
 *
 * <p>Blocks are kept in memory for the most recent {@value #RECENT_BLOCKS}; older ones are fetched
 * again and checked against the header hash recorded when they were verified. Receipt proofs are
 * fetched from the sequencer and checked against the verified header of their block.
 */
public final class RemoteLedger implements Ledger {
  private static final System.Logger LOG = System.getLogger(RemoteLedger.class.getName());
  private static final ObjectMapper JSON = dev.verity.protocol.JsonFactories.mapper();
  private static final Base64.Decoder B64 = Base64.getDecoder();
  static final int RECENT_BLOCKS = 1024;
  /** Largest response this ledger reads from the sequencer. */
  static final int MAX_RESPONSE_BYTES = 16 << 20;
  private static final Duration POLL = Duration.ofSeconds(2);
  private static final Duration RETRY = Duration.ofMillis(500);
  private static final Duration SUBMIT_TIMEOUT = Duration.ofSeconds(75);
  private static final Duration COMMIT_VISIBLE_TIMEOUT = Duration.ofSeconds(30);

  private final URI base;
  private final GenesisConfig genesis;
  private final HttpClient http;
  private final int recentBlocks;
  private final Object lock = new Object();
  private final List<Hash> headerHashes = new ArrayList<>(); // index = height; guarded by lock
  private final Map<Long, Block> recent = new LinkedHashMap<>(); // guarded by lock
  private final BlockFeeds feeds = new BlockFeeds("verity-ledger-subscriber", () -> this.latest.height(), h -> {
    try {
      return blocksFrom(h);
    } catch (UncheckedIOException e) {
      LOG.log(System.Logger.Level.WARNING, "block subscriber waits for block " + h + ": " + e.getMessage());
      sleepQuietly(RETRY);
      return List.of();
    }
  });
  private final ArrayDeque<Outgoing> outbox = new ArrayDeque<>(); // guarded by itself
  private volatile View latest;
  private volatile String failure;
  private volatile boolean closed;
  private Thread syncThread;
  private Thread sendThread;

  private RemoteLedger(URI base, GenesisConfig genesis, HttpClient http, int recentBlocks) {
    this.base = stripSlash(base);
    this.genesis = genesis;
    this.http = http;
    this.recentBlocks = recentBlocks;
  }

  /**
   * Connects to the sequencer node at {@code sequencer}, verifies its chain from block 0 against
   * {@code genesis} up to its current head, and keeps following it.
   *
   * @param startDeadline how long to wait for the sequencer to answer and the chain to be caught up
   * @throws IOException if the sequencer cannot be reached in time, or serves a chain that is not
   *     the one {@code genesis} starts (the message says which check failed)
   */
  public static RemoteLedger open(URI sequencer, GenesisConfig genesis, Duration startDeadline) throws IOException {
    return open(sequencer, genesis, startDeadline, RECENT_BLOCKS);
  }

  /** As {@link #open(URI, GenesisConfig, Duration)}, keeping {@code recentBlocks} blocks in memory. */
  static RemoteLedger open(URI sequencer, GenesisConfig genesis, Duration startDeadline, int recentBlocks)
      throws IOException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    RemoteLedger l = new RemoteLedger(sequencer, genesis, http, Math.max(1, recentBlocks));
    long end = System.nanoTime() + startDeadline.toNanos();
    IOException last = null;
    while (true) {
      try {
        l.start();
        break;
      } catch (ChainMismatch e) {
        throw e;
      } catch (IOException e) {
        last = e;
      }
      if (System.nanoTime() - end > 0) {
        throw new IOException("could not follow the ledger of the sequencer at " + sequencer + " (setting ledger.url)"
            + " within " + startDeadline.toSeconds() + " s: " + last.getMessage()
            + "; start the sequencer node first and check that this host reaches it", last);
      }
      sleepQuietly(RETRY);
    }
    try {
      l.catchUp(Duration.ofNanos(Math.max(1, end - System.nanoTime())));
    } catch (IOException e) {
      l.close();
      throw e;
    }
    return l;
  }

  /**
   * Fetches the genesis the sequencer at {@code sequencer} serves, for a node that pins it on first
   * start. What it returns is trusted only as far as the operator trusts that URL; distribute the
   * genesis file (setting {@code ledger.genesis}) to avoid trusting it at all.
   */
  public static GenesisConfig fetchGenesis(URI sequencer, Duration deadline) throws IOException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    RemoteLedger probe = new RemoteLedger(sequencer, null, http, 1);
    long end = System.nanoTime() + deadline.toNanos();
    while (true) {
      try {
        JsonNode n = probe.getJson("/v1/ledger/genesis");
        return GenesisConfig.decode(probe.base64(n, "genesis"));
      } catch (IOException e) {
        if (System.nanoTime() - end > 0) {
          throw new IOException("could not read the genesis of the sequencer at " + sequencer + ": " + e.getMessage(), e);
        }
      } catch (DecodingException e) {
        throw new IOException("the sequencer at " + sequencer + " serves a malformed genesis: " + e.getMessage(), e);
      }
      sleepQuietly(RETRY);
    }
  }

  /** Fetches block 0, checks it is this genesis's block, and starts following from block 1. */
  private void start() throws IOException {
    Block zero;
    try {
      zero = Block.decode(base64(getJson("/v1/ledger/blocks/0"), "block"));
    } catch (DecodingException e) {
      throw new IOException("the sequencer at " + base + " serves a malformed block 0: " + e.getMessage(), e);
    }
    LedgerState state = LedgerState.genesis(genesis);
    BlockHeader h = zero.header();
    try {
      zero.verify(genesis.sequencer());
    } catch (VerificationException e) {
      throw new ChainMismatch(notOurChain("its block 0 is not signed by the genesis sequencer " + genesis.sequencer()));
    }
    if (h.height() != 0 || !h.chainId().equals(genesis.chainId()) || !h.stateRoot().equals(state.root())
        || !zero.transactions().isEmpty()) {
      throw new ChainMismatch(notOurChain("its block 0 does not commit to this genesis (chain '" + genesis.chainId()
          + "', genesis hash " + genesis.hash().toHex() + ")"));
    }
    synchronized (lock) {
      headerHashes.add(h.hash());
      remember(zero);
      latest = new View(h, state);
    }
    syncThread = Thread.ofPlatform().daemon().name("verity-ledger-sync").start(this::follow);
    sendThread = Thread.ofPlatform().daemon().name("verity-ledger-send").start(this::sendLoop);
  }

  /** The sequencer runs another chain: waiting will not help. */
  private static final class ChainMismatch extends IOException {
    private static final long serialVersionUID = 1L;

    ChainMismatch(String message) {
      super(message);
    }
  }

  private String notOurChain(String why) {
    return "the sequencer at " + base + " (setting ledger.url) does not run this node's chain: " + why
        + ". Check ledger.url and ledger.genesis";
  }

  // ---- following ----

  private void follow() {
    boolean reported = false;
    while (!closed && failure == null) {
      try {
        long next = latest.height() + 1;
        JsonNode n = getJson("/v1/ledger/sync?from=" + next + "&wait_millis=" + POLL.toMillis());
        JsonNode blocks = n.path("blocks");
        if (!blocks.isArray()) {
          throw new IOException("the sequencer's sync answer has no block list");
        }
        for (JsonNode b : blocks) {
          apply(Block.decode(decode(b.asText(), "blocks")));
        }
        reported = false;
      } catch (IOException e) {
        if (closed) {
          return;
        }
        if (!reported) {
          LOG.log(System.Logger.Level.WARNING, "cannot reach the sequencer at " + base + " (" + e.getMessage()
              + "); retrying");
          reported = true;
        }
        sleepQuietly(RETRY);
      } catch (DecodingException | VerificationException e) {
        fail("the sequencer at " + base + " served a block that does not verify: " + e.getMessage());
      } catch (RuntimeException e) {
        fail("following the ledger failed: " + e);
      }
    }
  }

  private void fail(String why) {
    failure = why;
    LOG.log(System.Logger.Level.ERROR, why + "; this node stops following the ledger at block " + latest.height()
        + " and refuses ledger work until it is restarted");
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  /** Verifies and applies the next block; blocks not following the latest are skipped. */
  private void apply(Block b) throws VerificationException {
    View v = latest;
    if (b.height() <= v.height()) {
      return; // already have it (a retried poll)
    }
    LedgerState next = Chain.applyBlock(v.state(), v.header(), b);
    synchronized (lock) {
      headerHashes.add(b.header().hash());
      remember(b);
      latest = new View(b.header(), next);
      lock.notifyAll();
    }
    feeds.wake();
  }

  private void remember(Block b) {
    recent.put(b.height(), b);
    if (recent.size() > recentBlocks) {
      recent.remove(recent.keySet().iterator().next());
    }
  }

  /**
   * Waits until this ledger holds at least the sequencer's current head (one round trip to learn it,
   * then the follower's next blocks), so that what a client committed through any node is visible.
   *
   * @throws IOException if the sequencer cannot be reached or the head is not reached in time
   */
  public LedgerView catchUp(Duration timeout) throws IOException {
    JsonNode n = getJson("/v1/ledger/head");
    BlockHeader head;
    try {
      head = BlockHeader.decode(base64(n, "header"));
      head.verifySignature(genesis.sequencer());
    } catch (DecodingException | VerificationException e) {
      throw new IOException("the sequencer's head is not a header it signed: " + e.getMessage(), e);
    }
    if (!awaitHeight(head.height(), timeout)) {
      throw new IOException("this node's ledger is at block " + latest.height() + " and did not reach the sequencer's"
          + " block " + head.height() + " within " + timeout.toMillis() + " ms" + (failure != null ? ": " + failure : ""));
    }
    return latest.view();
  }

  /** Waits until block {@code height} is verified here; false on timeout, failure or close. */
  public boolean awaitHeight(long height, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (latest.height() < height) {
        long left = end - System.nanoTime();
        if (left <= 0 || closed || failure != null) {
          return false;
        }
        try {
          lock.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }
  }

  /** The sequencer node's base URL. */
  public URI sequencer() {
    return base;
  }

  /** Why this ledger stopped following the sequencer, if it did. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  // ---- the Ledger API ----

  @Override
  public GenesisConfig genesis() {
    return genesis;
  }

  @Override
  public CompletableFuture<Committed> submit(SignedTransaction tx) {
    CompletableFuture<Committed> f = new CompletableFuture<>();
    if (tx.size() > SignedTransaction.MAX_BYTES) {
      f.completeExceptionally(new TransactionRejected(TransactionRejected.Reason.MALFORMED,
          "transaction of " + tx.size() + " bytes exceeds " + SignedTransaction.MAX_BYTES));
      return f;
    }
    synchronized (outbox) {
      if (closed || failure != null) {
        f.completeExceptionally(unavailable(closed ? "the ledger connection is closed" : failure));
        return f;
      }
      outbox.add(new Outgoing(tx, f));
      outbox.notifyAll();
    }
    return f;
  }

  /** A transaction waiting to be sent, and who waits for its outcome. */
  private record Outgoing(SignedTransaction tx, CompletableFuture<Committed> result) {}

  /**
   * Sends what {@link #submit} queued, in order, in batches ({@code POST /v1/ledger/transactions/
   * batch}: the sequencer submits a batch in its order, so one sender's consecutive nonces arrive
   * in order), one batch at a time.
   */
  private void sendLoop() {
    while (true) {
      List<Outgoing> batch = new ArrayList<>();
      synchronized (outbox) {
        while (outbox.isEmpty() && !closed) {
          try {
            outbox.wait();
          } catch (InterruptedException e) {
            if (closed) {
              break;
            }
          }
        }
        if (closed) {
          batch.addAll(outbox);
          outbox.clear();
          batch.forEach(o -> o.result().completeExceptionally(unavailable("the ledger connection is closed")));
          return;
        }
        while (!outbox.isEmpty() && batch.size() < MAX_BATCH) {
          batch.add(outbox.poll());
        }
      }
      try {
        sendBatch(batch);
      } catch (RuntimeException e) {
        batch.forEach(o -> o.result().completeExceptionally(unavailable("sending failed: " + e)));
      }
    }
  }

  static final int MAX_BATCH = 256;

  private void sendBatch(List<Outgoing> batch) {
    if (failure != null) {
      batch.forEach(o -> o.result().completeExceptionally(unavailable(failure)));
      return;
    }
    StringBuilder json = new StringBuilder("{\"transactions\":[");
    for (int i = 0; i < batch.size(); i++) {
      json.append(i == 0 ? "\"" : ",\"").append(Base64.getEncoder().encodeToString(batch.get(i).tx().encode()))
          .append('"');
    }
    json.append("]}");
    HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/ledger/transactions/batch")).timeout(SUBMIT_TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json.toString(), StandardCharsets.UTF_8)).build();
    JsonNode results;
    try {
      Response r = exchange(req);
      JsonNode n = JSON.readTree(r.body());
      if (r.status() != 200) {
        throw new IOException("the sequencer answered " + r.status() + ": " + n.path("detail").asText("(no detail)"));
      }
      results = n.path("results");
      if (!results.isArray() || results.size() != batch.size()) {
        throw new IOException("the sequencer answered " + results.size() + " results for " + batch.size()
            + " transactions");
      }
    } catch (IOException e) {
      TransactionRejected u = unavailable("sending to the sequencer at " + base + " failed: " + e.getMessage()
          + "; check the sender's nonce before resending");
      batch.forEach(o -> o.result().completeExceptionally(u));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      Outgoing o = batch.get(i);
      try {
        o.result().complete(outcome(o.tx(), results.get(i)));
      } catch (TransactionRejected r) {
        o.result().completeExceptionally(r);
      }
    }
  }

  /** The outcome the sequencer reported for {@code tx}, once this node has verified the block that holds it. */
  private Committed outcome(SignedTransaction tx, JsonNode n) throws TransactionRejected {
    if (n.has("rejected")) {
      String detail = n.path("rejected").path("detail").asText("");
      TransactionRejected.Reason reason;
      try {
        reason = TransactionRejected.Reason.valueOf(n.path("rejected").path("reason").asText());
      } catch (IllegalArgumentException e) {
        reason = reasonOf(detail);
      }
      throw new TransactionRejected(reason, stripReason(detail));
    }
    Committed c;
    try {
      Optional<Hash> created = n.hasNonNull("created") ? Optional.of(Hash.fromHex(n.path("created").asText()))
          : Optional.empty();
      c = new Committed(n.path("height").asLong(-1), n.path("index").asInt(-1),
          Hash.fromHex(n.path("tx_id").asText()), created);
    } catch (RuntimeException e) {
      throw unavailable("the sequencer's acknowledgement is malformed: " + e.getMessage());
    }
    if (!c.txId().equals(tx.id())) {
      throw unavailable("the sequencer acknowledged transaction " + c.txId() + " for " + tx.id());
    }
    if (!awaitHeight(c.height(), COMMIT_VISIBLE_TIMEOUT)) {
      throw unavailable("the sequencer reports transaction " + tx.id() + " in block " + c.height()
          + ", which this node has not verified within " + COMMIT_VISIBLE_TIMEOUT.toSeconds() + " s"
          + (failure != null ? " (" + failure + ")" : "") + "; check the sender's nonce before resending");
    }
    Block b = block(c.height()).orElseThrow(); // verified above, so held
    if (c.index() < 0 || c.index() >= b.transactions().size()
        || !b.transactions().get(c.index()).id().equals(tx.id())) {
      throw unavailable("the sequencer reports transaction " + tx.id() + " at position " + c.index() + " of block "
          + c.height() + ", but the verified block holds no such transaction there");
    }
    return c;
  }

  private static TransactionRejected unavailable(String why) {
    return new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE, why);
  }

  /** The reason of a rejection as the ledger words it: "{REASON}: message"; unknown ones are final. */
  static TransactionRejected.Reason reasonOf(String detail) {
    int colon = detail.indexOf(':');
    if (colon > 0) {
      try {
        return TransactionRejected.Reason.valueOf(detail.substring(0, colon));
      } catch (IllegalArgumentException e) {
        // fall through
      }
    }
    return TransactionRejected.Reason.INVALID_ARGUMENT;
  }

  private static String stripReason(String detail) {
    int colon = detail.indexOf(": ");
    return colon > 0 && detail.substring(0, colon).chars().allMatch(ch -> ch == '_' || Character.isUpperCase(ch))
        ? detail.substring(colon + 2) : detail;
  }

  @Override
  public LedgerView view() {
    return latest.view();
  }

  @Override
  public Optional<Block> block(long height) {
    Hash expected;
    synchronized (lock) {
      if (height < 0 || height >= headerHashes.size()) {
        return Optional.empty();
      }
      Block b = recent.get(height);
      if (b != null) {
        return Optional.of(b);
      }
      expected = headerHashes.get((int) height);
    }
    try {
      Block b = Block.decode(base64(getJson("/v1/ledger/blocks/" + height), "block"));
      b.verify(genesis.sequencer());
      if (!b.header().hash().equals(expected)) {
        throw new VerificationException("block " + height + " from the sequencer is not the block verified before");
      }
      return Optional.of(b);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fetch block " + height + " from the sequencer at " + base, e);
    } catch (DecodingException | VerificationException e) {
      throw new UncheckedIOException(new IOException("the sequencer served a bad block " + height + ": "
          + e.getMessage(), e));
    }
  }

  /**
   * Verified blocks from {@code from} on (at least one if {@code from} is verified here): from memory
   * when recent, else a batch fetched from the sequencer, each checked against the header hash
   * recorded when it was verified and its transactions against that header's root.
   */
  private List<Block> blocksFrom(long from) {
    synchronized (lock) {
      Block b = recent.get(from);
      if (b != null || from >= headerHashes.size()) {
        return b != null ? List.of(b) : List.of();
      }
    }
    List<Block> out = new ArrayList<>();
    try {
      JsonNode n = getJson("/v1/ledger/sync?from=" + from + "&wait_millis=0");
      long h = from;
      for (JsonNode item : n.path("blocks")) {
        Block b = Block.decode(decode(item.asText(), "blocks"));
        Hash expected;
        synchronized (lock) {
          if (h >= headerHashes.size()) {
            break;
          }
          expected = headerHashes.get((int) h);
        }
        if (b.height() != h || !b.header().hash().equals(expected)
            || !Block.transactionsRoot(b.transactions()).equals(b.header().txRoot())) {
          throw new VerificationException("block " + h + " from the sequencer is not the block verified before");
        }
        out.add(b);
        h++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fetch blocks from " + from + " from the sequencer at " + base, e);
    } catch (DecodingException | VerificationException e) {
      throw new UncheckedIOException(new IOException("the sequencer served bad blocks from " + from + ": "
          + e.getMessage(), e));
    }
    if (out.isEmpty()) {
      out.add(block(from).orElseThrow());
    }
    return out;
  }

  @Override
  public Optional<ReceiptProof> receiptProof(Cid receipt) {
    View v = latest;
    Optional<StateRecord.Receipt> r = v.receipt(receipt);
    if (r.isEmpty()) {
      return Optional.empty();
    }
    Hash expected;
    synchronized (lock) {
      expected = headerHashes.get((int) r.get().height());
    }
    try {
      ReceiptProof p = ReceiptProof.decode(base64(getJson("/v1/ledger/receipts/" + receipt + "/proof"),
          "receipt_proof"));
      p.verify(genesis.sequencer());
      if (!p.header().hash().equals(expected) || !p.entry().receipt().equals(receipt)
          || !p.entry().job().equals(r.get().job())) {
        throw new VerificationException("the proof names block " + p.header().height() + " and job " + p.entry().job()
            + "; the verified state has receipt " + receipt + " in block " + r.get().height() + " for job "
            + r.get().job());
      }
      return Optional.of(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fetch the proof of receipt " + receipt + " from " + base, e);
    } catch (DecodingException | VerificationException e) {
      throw new UncheckedIOException(new IOException("the sequencer served a bad proof of receipt " + receipt
          + ": " + e.getMessage(), e));
    }
  }

  @Override
  public Subscription subscribe(long fromHeight, Consumer<Block> listener) {
    return feeds.subscribe(fromHeight, listener);
  }

  @Override
  public void close() {
    synchronized (outbox) {
      closed = true;
      outbox.notifyAll();
    }
    feeds.close();
    synchronized (lock) {
      lock.notifyAll();
    }
    if (syncThread != null) {
      syncThread.interrupt();
    }
    http.shutdownNow();
  }

  // ---- HTTP ----

  private record Response(int status, byte[] body) {}

  private Response exchange(HttpRequest req) throws IOException {
    try {
      HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        byte[] body = in.readNBytes(MAX_RESPONSE_BYTES + 1);
        if (body.length > MAX_RESPONSE_BYTES) {
          throw new IOException("the sequencer's answer to " + req.uri().getPath() + " exceeds "
              + MAX_RESPONSE_BYTES + " bytes");
        }
        return new Response(r.statusCode(), body);
      }
    } catch (HttpTimeoutException | ConnectException e) {
      throw new IOException(e.getClass().getSimpleName() + " " + String.valueOf(e.getMessage()), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private JsonNode getJson(String pathAndQuery) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(POLL.plusSeconds(30)).GET().build();
    Response r = exchange(req);
    JsonNode n;
    try {
      n = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new IOException("GET " + pathAndQuery + " answered " + r.status() + " with a body that is not JSON");
    }
    if (r.status() != 200) {
      throw new IOException("GET " + pathAndQuery + " answered " + r.status() + ": "
          + n.path("detail").asText(new String(r.body(), 0, Math.min(200, r.body().length), StandardCharsets.UTF_8)));
    }
    return n;
  }

  private byte[] base64(JsonNode n, String field) throws IOException {
    if (!n.path(field).isTextual()) {
      throw new IOException("the sequencer's answer has no '" + field + "'");
    }
    return decode(n.path(field).asText(), field);
  }

  private static byte[] decode(String text, String field) {
    try {
      return B64.decode(text);
    } catch (IllegalArgumentException e) {
      throw new DecodingException("'" + field + "' is not base64: " + e.getMessage(), e);
    }
  }

  private static URI stripSlash(URI u) {
    String s = u.toString();
    return s.endsWith("/") ? URI.create(s.substring(0, s.length() - 1)) : u;
  }

  private static void sleepQuietly(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A verified header, the state after it, and the view over both. */
  private record View(LedgerView view, LedgerState state) {
    View(BlockHeader header, LedgerState state) {
      this(LedgerView.of(header, state), state);
    }

    BlockHeader header() {
      return view.header();
    }

    long height() {
      return view.height();
    }

    Optional<StateRecord.Receipt> receipt(Cid receipt) {
      return view.receipt(receipt);
    }
  }
}
