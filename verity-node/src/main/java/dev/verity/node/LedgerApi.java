package dev.verity.node;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.Block;
import dev.verity.ledger.BlockHeader;
import dev.verity.ledger.Committed;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.NodeRole;
import dev.verity.ledger.ReceiptProof;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.StateKey;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.TransactionRejected;
import dev.verity.node.http.ApiException;
import dev.verity.node.http.Exchange;
import dev.verity.node.http.Router;
import dev.verity.node.net.Peer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The ledger endpoints under {@code /v1/ledger} (docs/openapi.yaml): submit signed transactions,
 * read the head, blocks, genesis, accounts, nodes, models and jobs, with state proofs on request,
 * and receipt inclusion proofs. Binary objects (headers, blocks, proofs, the genesis) travel as
 * base64 canonical CBOR, beside a JSON view for people. A node without a ledger answers every one
 * of them with 404.
 */
final class LedgerApi {
  static final long SUBMIT_TIMEOUT_SECONDS = 60;
  private static final Base64.Encoder B64 = Base64.getEncoder();
  private static final int MAX_BLOCKS_LISTED = 100;

  private final Optional<NodeLedger> ledger;

  LedgerApi(Optional<NodeLedger> ledger) {
    this.ledger = ledger;
  }

  /** Adds the ledger routes to {@code r}. */
  Router addTo(Router r) {
    return r.add("GET", "/v1/ledger", this::info)
        .add("POST", "/v1/ledger/transactions", this::submit)
        .add("POST", "/v1/ledger/transactions/batch", this::submitBatch)
        .add("GET", "/v1/ledger/head", this::head)
        .add("GET", "/v1/ledger/genesis", this::genesis)
        .add("GET", "/v1/ledger/blocks", this::blocks)
        .add("GET", "/v1/ledger/blocks/{height}", this::block)
        .add("GET", "/v1/ledger/accounts/{address}", this::account)
        .add("GET", "/v1/ledger/nodes/{address}", this::node)
        .add("GET", "/v1/ledger/models/{cid}", this::model)
        .add("GET", "/v1/ledger/jobs/{id}", this::job)
        .add("GET", "/v1/ledger/receipts/{cid}/proof", this::receiptProof)
        .add("GET", "/v1/ledger/sync", this::sync)
        .add("GET", "/v1/network/peers", this::peers);
  }

  private NodeLedger ledger() {
    return ledger.orElseThrow(() -> ApiException.notFound(
        "this node runs no ledger (setting ledger = none); start it with ledger = embedded, or ledger = remote and"
            + " ledger.url (docs/CONFIG.md)"));
  }

  private void info(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    GenesisConfig g = l.genesis();
    long height = l.view().height();
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeStringField("chain_id", g.chainId());
      j.writeStringField("genesis_hash", g.hash().toHex());
      j.writeStringField("sequencer", g.sequencer().toString());
      j.writeStringField("operator", l.address().toString());
      j.writeNumberField("operator_fee", l.operatorFee());
      j.writeNumberField("height", height);
      j.writeNumberField("receipt_batch", l.settings().receiptBatch());
      j.writeNumberField("receipt_batch_millis", l.settings().receiptBatchDelay().toMillis());
      j.writeEndObject();
    });
  }

  // ---- transactions ----

  private void submit(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    byte[] body = ex.body(SignedTransaction.MAX_BYTES);
    SignedTransaction tx;
    try {
      tx = SignedTransaction.decode(body);
    } catch (IllegalArgumentException e) { // DecodingException, or a value a transaction cannot hold
      throw new ApiException(400, "malformed-transaction", "Malformed transaction",
          "the body is not a signed transaction in canonical CBOR: " + e.getMessage());
    }
    Committed c;
    try {
      c = l.ledger().submit(tx).get(SUBMIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TransactionRejected r) {
        if (r.reason() == TransactionRejected.Reason.UNAVAILABLE) {
          throw new ApiException(503, "ledger-unavailable", "Ledger unavailable", r.getMessage());
        }
        throw new ApiException(400, "transaction-rejected", "Transaction rejected", r.getMessage());
      }
      throw new IllegalStateException("the ledger failed on transaction " + tx.id(), e.getCause());
    } catch (TimeoutException e) {
      throw new ApiException(503, "ledger-unavailable", "Ledger unavailable", "transaction " + tx.id()
          + " was not committed within " + SUBMIT_TIMEOUT_SECONDS + " s; check the sender's nonce before resending");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the ledger", e);
    }
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeStringField("tx_id", c.txId().toHex());
      j.writeNumberField("height", c.height());
      j.writeNumberField("index", c.index());
      if (c.created().isPresent()) {
        j.writeStringField("created", c.created().get().toHex());
      } else {
        j.writeNullField("created");
      }
      j.writeEndObject();
    });
  }

  static final int MAX_BATCH = 256;

  /**
   * Several signed transactions at once, submitted to the ledger in the order given (so one
   * sender's consecutive nonces stay in order) and answered once every one is committed or refused:
   * {@code {"transactions": [base64 canonical CBOR, ...]}} in, {@code {"results": [{"tx_id",
   * "height", "index", "created"} or {"rejected": {"reason", "detail"}}, ...]}} out, in the same
   * order. Followers (ledger = remote) send their node's transactions this way.
   */
  private void submitBatch(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    byte[] body = ex.body((long) MAX_BATCH * SignedTransaction.MAX_BYTES * 2);
    JsonNode items;
    try {
      items = JSON.readTree(body).path("transactions");
    } catch (IOException e) {
      throw ApiException.badRequest("the body is not JSON: " + e.getMessage());
    }
    if (!items.isArray() || items.isEmpty() || items.size() > MAX_BATCH) {
      throw ApiException.badRequest("'transactions' must be a list of 1.." + MAX_BATCH + " base64 signed transactions");
    }
    List<SignedTransaction> txs = new ArrayList<>();
    for (JsonNode item : items) {
      try {
        txs.add(SignedTransaction.decode(Base64.getDecoder().decode(item.asText())));
      } catch (IllegalArgumentException e) { // DecodingException, bad base64, or a value a transaction cannot hold
        throw new ApiException(400, "malformed-transaction", "Malformed transaction", "transaction "
            + txs.size() + " of the batch is not a signed transaction in base64 canonical CBOR: " + e.getMessage());
      }
    }
    List<CompletableFuture<Committed>> results = new ArrayList<>();
    for (SignedTransaction tx : txs) {
      results.add(l.ledger().submit(tx));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SUBMIT_TIMEOUT_SECONDS);
    List<Object> outcomes = new ArrayList<>();
    for (CompletableFuture<Committed> f : results) {
      try {
        outcomes.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (ExecutionException e) {
        outcomes.add(e.getCause() instanceof TransactionRejected r ? r
            : new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE, "the ledger failed: " + e.getCause()));
      } catch (TimeoutException e) {
        outcomes.add(new TransactionRejected(TransactionRejected.Reason.UNAVAILABLE, "not committed within "
            + SUBMIT_TIMEOUT_SECONDS + " s; check the sender's nonce before resending"));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the ledger", e);
      }
    }
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeArrayFieldStart("results");
      for (Object o : outcomes) {
        j.writeStartObject();
        if (o instanceof Committed c) {
          j.writeStringField("tx_id", c.txId().toHex());
          j.writeNumberField("height", c.height());
          j.writeNumberField("index", c.index());
          if (c.created().isPresent()) {
            j.writeStringField("created", c.created().get().toHex());
          } else {
            j.writeNullField("created");
          }
        } else {
          TransactionRejected r = (TransactionRejected) o;
          j.writeObjectFieldStart("rejected");
          j.writeStringField("reason", r.reason().name());
          j.writeStringField("detail", r.getMessage());
          j.writeEndObject();
        }
        j.writeEndObject();
      }
      j.writeEndArray();
      j.writeEndObject();
    });
  }

  private static final ObjectMapper JSON = dev.verity.protocol.JsonFactories.mapper();

  // ---- headers, blocks, genesis ----

  private void head(Exchange ex) throws IOException {
    BlockHeader h = ledger().view().header();
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeStringField("header", B64.encodeToString(h.encode()));
      j.writeObjectFieldStart("view");
      writeHeader(j, h);
      j.writeEndObject();
      j.writeEndObject();
    });
  }

  private void genesis(Exchange ex) throws IOException {
    GenesisConfig g = ledger().genesis();
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeStringField("genesis", B64.encodeToString(g.encode()));
      j.writeStringField("hash", g.hash().toHex());
      j.writeObjectFieldStart("view");
      writeCbor(j, g.toCbor());
      j.writeEndObject();
      j.writeEndObject();
    });
  }

  private void blocks(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    long head = l.view().height();
    int limit = (int) Math.min(MAX_BLOCKS_LISTED, Math.max(1, number(ex.query("limit").orElse("20"), "limit")));
    long from = ex.query("from").isPresent() ? number(ex.query("from").get(), "from") : Math.max(0, head - limit + 1);
    if (from < 0) {
      throw ApiException.badRequest("'from' must not be negative");
    }
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeNumberField("head", head);
      j.writeArrayFieldStart("blocks");
      for (long h = from; h <= head && h < from + limit; h++) {
        Block b = l.ledger().block(h).orElseThrow();
        j.writeStartObject();
        writeHeader(j, b.header());
        writeTransactions(j, b);
        j.writeEndObject();
      }
      j.writeEndArray();
      j.writeEndObject();
    });
  }

  private void block(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    long height = number(ex.param("height"), "height");
    Block b = l.ledger().block(height).orElseThrow(() -> ApiException.notFound(
        "no block " + height + "; the head is block " + l.view().height()));
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeStringField("header", B64.encodeToString(b.header().encode()));
      j.writeStringField("block", B64.encodeToString(b.encode()));
      j.writeObjectFieldStart("view");
      writeHeader(j, b.header());
      writeTransactions(j, b);
      j.writeEndObject();
      j.writeEndObject();
    });
  }

  static final int MAX_SYNC_BLOCKS = 256;
  static final int MAX_SYNC_BYTES = 8 << 20;
  static final long MAX_SYNC_WAIT_MILLIS = 10_000;

  /**
   * Blocks from {@code from} on, as base64 canonical CBOR, for nodes that follow this ledger: at
   * most {@value #MAX_SYNC_BLOCKS} blocks and about {@value #MAX_SYNC_BYTES} bytes. When {@code from}
   * is beyond the head, waits up to {@code wait_millis} (at most 10 s) for it to be committed, so
   * followers learn of a block as soon as it exists without polling in a loop.
   */
  private void sync(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    long from = number(ex.query("from").orElse("0"), "from");
    long wait = Math.min(MAX_SYNC_WAIT_MILLIS, Math.max(0, number(ex.query("wait_millis").orElse("0"), "wait_millis")));
    if (from < 0) {
      throw ApiException.badRequest("'from' must not be negative");
    }
    long head = l.view().height();
    if (from > head && wait > 0) {
      try {
        head = l.awaitAbove(from - 1, Duration.ofMillis(wait)).height();
      } catch (InterruptedException e) {
        head = l.view().height(); // the server is stopping: answer with what there is
      }
    }
    List<String> blocks = new ArrayList<>();
    long bytes = 0;
    for (long h = from; h <= head && blocks.size() < MAX_SYNC_BLOCKS && bytes < MAX_SYNC_BYTES; h++) {
      byte[] b = l.ledger().block(h).orElseThrow().encode();
      bytes += b.length;
      blocks.add(B64.encodeToString(b));
    }
    long headNow = head;
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeNumberField("head", headNow);
      j.writeArrayFieldStart("blocks");
      for (String b : blocks) {
        j.writeString(b);
      }
      j.writeEndArray();
      j.writeEndObject();
    });
  }

  /** The peers this node sees as live (registered, heartbeats within liveness_millis). */
  private void peers(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    List<Peer> live = l.peers().live();
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeNumberField("height", l.view().height());
      j.writeStringField("self", l.address().toString());
      j.writeArrayFieldStart("peers");
      for (Peer p : live) {
        j.writeStartObject();
        j.writeStringField("address", p.address().toString());
        j.writeStringField("endpoint", p.endpoint().toString());
        j.writeArrayFieldStart("roles");
        for (NodeRole r : EnumSet.copyOf(p.roles())) {
          j.writeString(r.label());
        }
        j.writeEndArray();
        j.writeArrayFieldStart("models");
        for (String c : new TreeSet<>(p.models().stream().map(Cid::toString).toList())) {
          j.writeString(c);
        }
        j.writeEndArray();
        j.writeNumberField("stake", p.stake());
        j.writeNumberField("capacity", p.capacity());
        j.writeEndObject();
      }
      j.writeEndArray();
      j.writeEndObject();
    });
  }

  // ---- state ----

  private void account(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    Address a = address(ex.param("address"));
    LedgerView v = l.freshView();
    StateRecord.Account acc = v.account(a);
    StateRecord.Stake st = v.stake(a);
    boolean prove = prove(ex);
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeStringField("address", a.toString());
      j.writeNumberField("height", v.height());
      j.writeNumberField("balance", acc.balance());
      j.writeNumberField("nonce", acc.nonce());
      j.writeObjectFieldStart("stake");
      j.writeNumberField("bonded", st.bonded());
      j.writeNumberField("unbonding", st.unbonding());
      j.writeNumberField("release_height", st.releaseHeight());
      j.writeEndObject();
      if (prove) {
        j.writeStringField("header", B64.encodeToString(v.header().encode()));
        j.writeObjectFieldStart("proofs");
        j.writeStringField("account", B64.encodeToString(v.prove(StateKey.account(a)).encode()));
        j.writeStringField("stake", B64.encodeToString(v.prove(StateKey.stake(a)).encode()));
        j.writeEndObject();
      }
      j.writeEndObject();
    });
  }

  private void node(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    Address a = address(ex.param("address"));
    LedgerView v = l.freshView();
    StateRecord.Node n = v.node(a).orElseThrow(() -> ApiException.notFound("no node is registered for " + a
        + " (as of block " + v.height() + ")"));
    StateRecord.Stake st = v.stake(a);
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeNumberField("height", v.height());
      writeCbor(j, n.toCbor());
      j.writeNumberField("bonded", st.bonded());
      if (prove(ex)) {
        j.writeStringField("header", B64.encodeToString(v.header().encode()));
        j.writeStringField("proof", B64.encodeToString(v.prove(StateKey.node(a)).encode()));
      }
      j.writeEndObject();
    });
  }

  private void model(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    Cid cid = cid(ex.param("cid"));
    LedgerView v = l.freshView();
    StateRecord.Model m = v.model(cid).orElseThrow(() -> ApiException.notFound("manifest " + cid
        + " is not registered on the ledger (as of block " + v.height() + "); its owner registers it with RegisterModel"));
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeNumberField("height", v.height());
      j.writeStringField("manifest", m.manifest().toString());
      j.writeStringField("owner", m.owner().toString());
      j.writeNumberField("royalty", m.pricePerInference());
      j.writeNumberField("registered", m.registeredHeight());
      j.writeStringField("worker", l.address().toString());
      j.writeNumberField("operator_fee", l.operatorFee());
      j.writeNumberField("price", m.pricePerInference() + l.operatorFee());
      if (prove(ex)) {
        j.writeStringField("header", B64.encodeToString(v.header().encode()));
        j.writeStringField("proof", B64.encodeToString(v.prove(StateKey.model(cid)).encode()));
      }
      j.writeEndObject();
    });
  }

  private void job(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    Hash id = NodeApi.jobId(ex.param("id"));
    LedgerView v = l.freshView();
    StateRecord.Job job = v.job(id).orElseThrow(() -> ApiException.notFound("no job " + id + " on the ledger (as of block "
        + v.height() + ")"));
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeNumberField("height", v.height());
      writeJob(j, job);
      if (prove(ex)) {
        j.writeStringField("header", B64.encodeToString(v.header().encode()));
        j.writeStringField("proof", B64.encodeToString(v.prove(StateKey.job(id)).encode()));
      }
      j.writeEndObject();
    });
  }

  private void receiptProof(Exchange ex) throws IOException {
    NodeLedger l = ledger();
    Cid receipt = cid(ex.param("cid"));
    ReceiptProof proof = l.ledger().receiptProof(receipt).orElseThrow(() -> ApiException.notFound("receipt " + receipt
        + " is not committed on the ledger (yet): this node commits receipts in batches of "
        + l.settings().receiptBatch() + " or after " + l.settings().receiptBatchDelay().toMillis() + " ms"));
    LedgerView v = l.view(); // taken after the proof, so never older than the receipt's block
    Hash jobId = proof.entry().job();
    StateRecord.Job job = v.job(jobId).orElseThrow(
        () -> new IllegalStateException("committed receipt " + receipt + " names missing job " + jobId));
    ex.sendJson(200, j -> {
      j.writeStartObject();
      j.writeStringField("receipt", receipt.toString());
      j.writeNumberField("block", proof.header().height());
      j.writeStringField("receipt_proof", B64.encodeToString(proof.encode()));
      j.writeStringField("header", B64.encodeToString(v.header().encode()));
      j.writeStringField("job_proof", B64.encodeToString(v.prove(StateKey.job(jobId)).encode()));
      j.writeObjectFieldStart("job");
      writeJob(j, job);
      j.writeEndObject();
      Optional<StateRecord.Check> check = v.check(jobId);
      if (check.isPresent()) {
        // optimistic job: its trace commitment and sample, and every dispute opened over it
        j.writeStringField("check_proof", B64.encodeToString(v.prove(StateKey.check(jobId)).encode()));
        j.writeArrayFieldStart("disputes");
        for (Hash d : disputesOf(l, v, check.get())) {
          j.writeStartObject();
          j.writeStringField("id", d.toHex());
          j.writeStringField("proof", B64.encodeToString(v.prove(StateKey.dispute(d)).encode()));
          j.writeEndObject();
        }
        j.writeEndArray();
        j.writeNumberField("challenge_window_blocks", l.genesis().challengeWindowBlocks());
      }
      j.writeEndObject();
    });
  }

  /**
   * The disputes opened over an optimistic job: the challenges in the blocks of its challenge
   * window (the only blocks that can hold one).
   */
  private static List<Hash> disputesOf(NodeLedger l, LedgerView v, StateRecord.Check c) {
    List<Hash> out = new ArrayList<>();
    long last = Math.min(v.height(), c.committedHeight() + l.genesis().challengeWindowBlocks());
    for (long h = c.committedHeight(); h <= last; h++) {
      Optional<Block> b = l.ledger().block(h);
      if (b.isEmpty()) {
        break;
      }
      for (SignedTransaction t : b.get().transactions()) {
        if (t.tx().action() instanceof dev.verity.ledger.Action.Challenge ch && ch.job().equals(c.job())) {
          Hash id = dev.verity.ledger.Action.Challenge.disputeId(c.job(), t.tx().sender().address());
          if (!out.contains(id)) {
            out.add(id);
          }
        }
      }
    }
    return out;
  }

  // ---- JSON views ----

  static void writeHeader(JsonGenerator j, BlockHeader h) throws IOException {
    j.writeNumberField("height", h.height());
    j.writeStringField("hash", h.hash().toHex());
    j.writeStringField("prev", h.previous().toHex());
    j.writeStringField("chain_id", h.chainId());
    j.writeStringField("state_root", h.stateRoot().toHex());
    j.writeStringField("tx_root", h.txRoot().toHex());
    j.writeStringField("receipts_root", h.receiptsRoot().toHex());
    j.writeNumberField("time", h.timeMillis());
    j.writeNumberField("tx_count", h.txCount());
    j.writeNumberField("receipt_count", h.receiptCount());
    j.writeStringField("sequencer", h.sequencer().toString());
  }

  private static void writeTransactions(JsonGenerator j, Block b) throws IOException {
    j.writeArrayFieldStart("transactions");
    for (SignedTransaction t : b.transactions()) {
      j.writeStartObject();
      j.writeStringField("id", t.id().toHex());
      j.writeStringField("type", t.tx().action().type());
      j.writeStringField("from", t.tx().senderAddress().toString());
      j.writeNumberField("nonce", t.tx().nonce());
      j.writeNumberField("fee", t.tx().fee());
      j.writeObjectFieldStart("action");
      writeCbor(j, t.tx().action().toCbor());
      j.writeEndObject();
      j.writeEndObject();
    }
    j.writeEndArray();
  }

  static void writeJob(JsonGenerator j, StateRecord.Job job) throws IOException {
    j.writeStringField("id", job.id().toHex());
    j.writeStringField("status", job.status().name().toLowerCase(Locale.ROOT));
    j.writeStringField("client", job.client().toString());
    j.writeStringField("model", job.model().toString());
    j.writeStringField("owner", job.modelOwner().toString());
    j.writeNumberField("royalty", job.modelPrice());
    if (job.worker().isPresent()) {
      j.writeStringField("worker", job.worker().get().toString());
    } else {
      j.writeNullField("worker");
    }
    j.writeNumberField("inferences", job.inferences());
    j.writeNumberField("escrow", job.escrow());
    j.writeNumberField("charged", job.charged());
    j.writeNumberField("opened", job.openedHeight());
    j.writeNumberField("expires", job.expiresHeight());
    j.writeNumberField("settled", job.settledHeight());
    j.writeNumberField("receipts", job.receipts());
  }

  /**
   * Writes the fields of a canonical map as JSON for reading: byte strings of 20 bytes as
   * addresses, of 36 bytes as CIDs, others as hex.
   */
  static void writeCbor(JsonGenerator j, CborValue.Map m) throws IOException {
    for (Map.Entry<String, CborValue> e : m.entries().entrySet()) {
      j.writeFieldName(e.getKey());
      writeValue(j, e.getValue());
    }
  }

  private static void writeValue(JsonGenerator j, CborValue v) throws IOException {
    switch (v) {
      case CborValue.Int i -> j.writeNumber(i.value());
      case CborValue.Text t -> j.writeString(t.value());
      case CborValue.Bool b -> j.writeBoolean(b.value());
      case CborValue.Null n -> j.writeNull();
      case CborValue.Bytes b -> j.writeString(bytesText(b.value()));
      case CborValue.Array a -> {
        j.writeStartArray();
        for (CborValue item : a.items()) {
          writeValue(j, item);
        }
        j.writeEndArray();
      }
      case CborValue.Map m -> {
        j.writeStartObject();
        writeCbor(j, m);
        j.writeEndObject();
      }
    }
  }

  private static String bytesText(byte[] b) {
    try {
      if (b.length == Address.LENGTH) {
        return Address.fromBytes(b).toString();
      }
      if (b.length == Cid.BINARY_LENGTH) {
        return Cid.fromBytes(b).toString();
      }
    } catch (DecodingException e) {
      // not an address or CID after all: show the bytes
    }
    return java.util.HexFormat.of().formatHex(b);
  }

  // ---- parameters ----

  private static boolean prove(Exchange ex) {
    return ex.query("prove").map(q -> q.isEmpty() || q.equals("true") || q.equals("1")).orElse(false);
  }

  private static long number(String s, String what) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("'" + what + "' must be a whole number, got '" + s + "'");
    }
  }

  private static Address address(String s) {
    try {
      return Address.parse(s);
    } catch (DecodingException e) {
      throw ApiException.badRequest("'" + s + "' is not an address (vt...): " + e.getMessage());
    }
  }

  private static Cid cid(String s) {
    try {
      return Cid.parse(s);
    } catch (DecodingException e) {
      throw ApiException.badRequest("'" + s + "' is not a CID: " + e.getMessage());
    }
  }
}
