package dev.verity.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Times, one at a time, the steps an HTTP inference adds to the engine's run: what the client and
 * the node encode, parse, hash, sign and verify; and provides two HTTP round trips to measure
 * alongside the request paths ({@link #httpReferences}). Each step does
 * the same work, through the same public APIs, as the client and node do for one request; where
 * that work sits in a private method of the node or client, this class repeats it.
 */
final class OverheadBreakdown {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFactory FACTORY = JSON.getFactory();

  private OverheadBreakdown() {}

  /**
   * One step.
   *
   * @param side "client" or "node"
   * @param what what the step does
   * @param micros median time in microseconds
   * @param timesPerRequest how often one HTTP inference performs the step
   */
  record Step(String side, String what, double micros, int timesPerRequest) {}

  /** What one finished inference left behind, to replay its steps. */
  record Sample(NamedTensors inputs, NamedTensors outputs, InferenceReceipt receipt, ModelManifest manifest) {}

  /** Times each step for about {@code millisPerStep}. */
  static List<Step> measure(Sample s, long millisPerStep) throws Exception {
    List<Step> steps = new ArrayList<>();
    TensorLimits limits = TensorLimits.DEFAULT;
    Signer nodeKey = Signer.generate();
    Set<PublicKey> pinned = Set.of(s.receipt().node());
    ReceiptVerifier verifier = ReceiptVerifier.create().trustingOnly(pinned);
    String requestId = UUID.randomUUID().toString();
    Body request = request(s.inputs(), requestId);
    boolean binaryResponse = Npy.prefersBinary(s.outputs());
    String receiptBase64 = Base64.getEncoder().encodeToString(s.receipt().encode());
    byte[] response = response(s.outputs(), s.receipt(), requestId);

    steps.add(new Step("client", "new request id (random UUID)", Timing.medianMicros(UUID::randomUUID, millisPerStep), 1));
    steps.add(new Step("client", "encode request (" + request.format() + ", " + request.bytes().length + " bytes)",
        Timing.medianMicros(() -> request(s.inputs(), requestId), millisPerStep), 1));
    steps.add(new Step("node", "parse request into tensors",
        Timing.medianMicros(() -> parseRequest(request, limits), millisPerStep), 1));
    steps.add(new Step("node", "CIDs of inputs and outputs (canonical CBOR + SHA-256)",
        Timing.medianMicros(() -> InferenceOverhead.fresh(s.inputs()).cid().equals(InferenceOverhead.fresh(s.outputs()).cid()), millisPerStep), 1));
    steps.add(new Step("node", "sign receipt (canonical CBOR + Ed25519 sign)",
        Timing.medianMicros(() -> InferenceReceipt.sign(nodeKey, requestId, s.manifest(), s.receipt().inputs(),
            s.receipt().outputs(), VerificationMode.RECEIPT, CborValue.Map.builder().build(), s.receipt().provenance(),
            s.receipt().startedAtMillis(), s.receipt().finishedAtMillis()), millisPerStep), 1));
    steps.add(new Step("node", "encode response (" + (binaryResponse ? ".npz and receipt header" : "JSON: outputs, base64 receipt, CIDs")
        + ", " + response.length + " bytes)",
        Timing.medianMicros(() -> response(s.outputs(), s.receipt(), requestId), millisPerStep), 1));
    steps.add(new Step("client", "parse response into tensors and fields",
        Timing.medianMicros(() -> parseResponse(response, binaryResponse, receiptBase64, limits), millisPerStep), 1));
    byte[] receiptBytes = s.receipt().encode();
    steps.add(new Step("client", "decode receipt (CBOR; node key matched to the pinned key)",
        Timing.medianMicros(() -> InferenceReceipt.decode(receiptBytes, pinned), millisPerStep), 1));
    steps.add(new Step("client", "CIDs of inputs and outputs again",
        Timing.medianMicros(() -> InferenceOverhead.fresh(s.inputs()).cid().equals(InferenceOverhead.fresh(s.outputs()).cid()), millisPerStep), 1));
    steps.add(new Step("client", "Ed25519 verify of the receipt signature",
        Timing.medianMicros(() -> {
          s.receipt().verifySignature();
          return null;
        }, millisPerStep), 1));
    steps.add(new Step("client", "manifest signature check as ReceiptVerifier asks for it",
        Timing.medianMicros(() -> {
          s.manifest().verify();
          return null;
        }, millisPerStep), 1));
    steps.add(new Step("client", "ReceiptVerifier.verify in all (the two rows above, CIDs, bindings, specs)",
        Timing.medianMicros(() -> {
          verifier.verify(s.receipt(), s.manifest(), InferenceOverhead.fresh(s.inputs()), InferenceOverhead.fresh(s.outputs()));
          return null;
        }, millisPerStep), 0));
    steps.add(new Step("client", "for comparison: decode receipt without a known key (CBOR, key point check)",
        Timing.medianMicros(() -> InferenceReceipt.decode(receiptBytes), millisPerStep), 0));

    return steps;
  }

  /**
   * A request body as VerityClient sends it: JSON, or .npz with mode and request id in the query
   * when the inputs are large ({@link Npy#prefersBinary}).
   */
  record Body(byte[] bytes, String contentType, String query) {
    String format() {
      return contentType.equals(NPZ) ? ".npz" : "JSON";
    }
  }

  static final String NPZ = "application/x-npz";
  /** The Accept header VerityClient sends with an inference. */
  static final String ACCEPT = "application/json, application/x-npz";

  /**
   * Two HTTP references, to be measured with the request paths: a bare round trip (GET /health)
   * and the encoded inference request POSTed to {@code inferPath} with its response read as bytes
   * but neither parsed nor verified.
   */
  static Map<String, Timing.Request> httpReferences(HttpClient http, URI node, String inferPath, NamedTensors inputs)
      throws IOException {
    String requestId = UUID.randomUUID().toString();
    Body body = request(inputs, requestId);
    HttpRequest health = HttpRequest.newBuilder(node.resolve("/health")).GET().build();
    HttpRequest infer = HttpRequest.newBuilder(node.resolve(inferPath + body.query()))
        .header("Content-Type", body.contentType()).header("X-Request-Id", requestId).header("Accept", ACCEPT)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build();
    Map<String, Timing.Request> calls = new java.util.LinkedHashMap<>();
    calls.put(RAW_POST, () -> send(http, infer));
    calls.put(HEALTH, () -> send(http, health));
    return calls;
  }

  static final String RAW_POST = "raw HTTP POST, no client work";
  static final String HEALTH = "HTTP GET /health";

  private static byte[] send(HttpClient http, HttpRequest r) throws IOException, InterruptedException {
    HttpResponse<byte[]> resp = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
    if (resp.statusCode() != 200) {
      throw new IOException(r.uri() + " answered " + resp.statusCode() + ": " + new String(resp.body(), java.nio.charset.StandardCharsets.UTF_8));
    }
    return resp.body();
  }

  /** The body VerityClient sends for an inference. */
  static Body request(NamedTensors inputs, String requestId) throws IOException {
    if (Npy.prefersBinary(inputs)) {
      return new Body(Npy.toNpz(inputs), NPZ, "?mode=" + VerificationMode.RECEIPT.wireName() + "&request_id=" + requestId);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("request_id", requestId);
      g.writeStringField("mode", VerificationMode.RECEIPT.wireName());
      g.writeFieldName("inputs");
      TensorJson.writeObject(g, inputs);
      g.writeEndObject();
    }
    return new Body(out.toByteArray(), "application/json", "");
  }

  /** What the node does with that body before running the model. */
  private static NamedTensors parseRequest(Body body, TensorLimits limits) throws IOException {
    if (body.contentType().equals(NPZ)) {
      return Npy.readNpz(new ByteArrayInputStream(body.bytes()), limits);
    }
    NamedTensors inputs = null;
    try (JsonParser p = FACTORY.createParser(body.bytes())) {
      p.nextToken();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        p.nextToken();
        if (f.equals("inputs")) {
          inputs = TensorJson.readObject(p, limits);
        } else if (f.equals("mode")) {
          VerificationMode.fromWireName(p.getText());
        } else {
          p.getText();
        }
      }
    }
    return inputs;
  }

  /**
   * The body the node answers a client that accepts both JSON and .npz with: .npz (and the receipt
   * in base64 in a header) when the outputs are large, else JSON.
   */
  private static byte[] response(NamedTensors outputs, InferenceReceipt receipt, String requestId) throws IOException {
    String encoded = Base64.getEncoder().encodeToString(receipt.encode());
    if (Npy.prefersBinary(outputs)) {
      return Npy.toNpz(outputs);
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream(4096);
    try (JsonGenerator g = FACTORY.createGenerator(buf)) {
      g.writeStartObject();
      g.writeStringField("request_id", requestId);
      g.writeStringField("mode", receipt.mode().wireName());
      g.writeFieldName("outputs");
      TensorJson.writeObject(g, outputs);
      g.writeStringField("receipt", encoded);
      g.writeStringField("receipt_cid", receipt.cid().toString());
      g.writeStringField("manifest_cid", receipt.manifest().toString());
      g.writeEndObject();
    }
    return buf.toByteArray();
  }

  /** What the client does with that body before verifying. */
  private static Object parseResponse(byte[] body, boolean binary, String receiptHeader, TensorLimits limits)
      throws IOException {
    if (binary) {
      NamedTensors outputs = Npy.readNpz(new ByteArrayInputStream(body), limits);
      return Base64.getDecoder().decode(receiptHeader).length + outputs.size();
    }
    ObjectNode meta = JSON.createObjectNode();
    NamedTensors outputs = null;
    try (JsonParser p = FACTORY.createParser(body)) {
      p.nextToken();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        p.nextToken();
        if (f.equals("outputs")) {
          outputs = TensorJson.readObject(p, limits);
        } else {
          meta.set(f, JSON.readTree(p));
        }
      }
    }
    byte[] receipt = Base64.getDecoder().decode(meta.path("receipt").asText());
    return receipt.length + outputs.size();
  }
}
