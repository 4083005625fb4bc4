package dev.verity.node.optimistic;

import dev.verity.core.BlobCid;
import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.protocol.RequestSignature;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Fetches content by CID from other nodes ({@code GET /v1/blobs/{cid}}, signed with this node's
 * key) and checks it before anyone uses it: a raw or chunked blob (a model file) must hash to its
 * CID under the blob naming rule ({@link BlobCid}); a dag-cbor CID of a tensor set must be the CID of
 * the canonical bytes received. Tries the given endpoints in order; a node that sends bytes that do
 * not match is skipped like one that has nothing. Thread-safe.
 */
public final class ContentFetcher {
  private final HttpClient http;
  private final Signer key;
  private final long maxBytes;

  /**
   * @param key signs the requests (a node may serve private models to registered peers)
   * @param maxBytes the largest blob accepted
   */
  public ContentFetcher(Signer key, long maxBytes) {
    this.key = key;
    this.maxBytes = maxBytes;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
        .version(HttpClient.Version.HTTP_1_1).build();
  }

  /**
   * The content named {@code cid}, from the first endpoint that has it intact.
   *
   * @throws IOException naming every endpoint tried and why it failed
   */
  public byte[] fetch(Cid cid, List<URI> endpoints) throws IOException {
    return fetch("/v1/blobs/", cid, endpoints);
  }

  /** The canonical bytes of the manifest {@code cid} ({@code GET /v1/manifests/{cid}}), checked against it. */
  public byte[] manifest(Cid cid, List<URI> endpoints) throws IOException {
    return fetch("/v1/manifests/", cid, endpoints);
  }

  private byte[] fetch(String prefix, Cid cid, List<URI> endpoints) throws IOException {
    List<String> failures = new ArrayList<>();
    for (URI base : endpoints) {
      try {
        byte[] bytes = get(base, prefix + cid);
        if (matches(cid, bytes)) {
          return bytes;
        }
        failures.add(base + ": sent bytes that do not hash to " + cid);
      } catch (IOException e) {
        failures.add(base + ": " + e.getMessage());
      }
    }
    throw new IOException("no node had " + cid + " intact" + (failures.isEmpty() ? " (none to ask)" : ": " + failures));
  }

  /** Whether {@code bytes} are the content named {@code cid}. */
  public static boolean matches(Cid cid, byte[] bytes) {
    if (cid.codec() == Cid.Codec.DAG_CBOR && Cid.dagCbor(bytes).equals(cid)) {
      return true; // a tensor set (or any canonical CBOR object named by its CID)
    }
    try {
      return BlobCid.of(new ByteArrayInputStream(bytes)).equals(cid);
    } catch (IOException e) {
      throw new AssertionError("reading an array cannot fail", e);
    }
  }

  /**
   * Uploads {@code bytes} to the hub of the node at {@code base} ({@code POST /v1/blobs}, signed
   * with this node's key) and returns their blob CID, checked against the CID the node answers.
   *
   * @throws IOException if the node refuses, does not answer, or names another CID
   */
  public Cid upload(URI base, byte[] bytes) throws IOException {
    Cid cid = BlobCid.of(new ByteArrayInputStream(bytes));
    String path = "/v1/blobs";
    HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/octet-stream")
        .header("Authorization", RequestSignature.sign(key, "POST", path, System.currentTimeMillis(),
            Hash.of(bytes)).toHeader())
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build();
    HttpResponse<String> resp;
    try {
      resp = http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (resp.statusCode() != 201) {
      String body = resp.body();
      throw new IOException(base + " refused the upload of " + cid + ": HTTP " + resp.statusCode() + " "
          + body.substring(0, Math.min(body.length(), 300)).strip());
    }
    String stored;
    try {
      stored = new com.fasterxml.jackson.databind.ObjectMapper().readTree(resp.body()).path("cid").asText("");
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IOException(base + " answered the upload of " + cid + " with a body that is not JSON", e);
    }
    if (!stored.equals(cid.toString())) {
      throw new IOException(base + " stored the upload of " + cid + " as '" + stored + "'");
    }
    return cid;
  }

  private byte[] get(URI base, String path) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
        .header("Authorization", RequestSignature.sign(key, "GET", path, System.currentTimeMillis(),
            Hash.of(new byte[0])).toHeader())
        .GET().build();
    HttpResponse<InputStream> resp;
    try {
      resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    try (InputStream in = resp.body()) {
      if (resp.statusCode() != 200) {
        throw new IOException("HTTP " + resp.statusCode());
      }
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, maxBytes + 1));
      if (bytes.length > maxBytes) {
        throw new IOException("larger than " + maxBytes + " bytes");
      }
      return bytes;
    }
  }
}
