/**
 * Writes a stream of chunks to R2 with memory bounded by one part, whatever the file
 * size: a single put for small objects, a multipart upload (equal 8 MiB parts, R2's
 * rule: all parts but the last the same size, at least 5 MiB) for the rest.
 */
export const PART_SIZE = 8 * 1024 * 1024;

export class PartWriter {
  private buffer = new Uint8Array(PART_SIZE);
  private filled = 0;
  private upload: R2MultipartUpload | null = null;
  private readonly parts: R2UploadedPart[] = [];

  constructor(
    private readonly bucket: R2Bucket,
    private readonly key: string,
    private readonly onUpload: (uploadId: string) => Promise<void>,
  ) {}

  async append(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const n = Math.min(PART_SIZE - this.filled, chunk.byteLength - offset);
      this.buffer.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === PART_SIZE) await this.flushPart();
    }
  }

  private async flushPart(): Promise<void> {
    if (!this.upload) {
      this.upload = await this.bucket.createMultipartUpload(this.key);
      await this.onUpload(this.upload.uploadId);
    }
    this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.buffer.subarray(0, this.filled)));
    this.filled = 0;
  }

  /** Complete the object; only called once the length and digest have been checked. */
  async complete(): Promise<void> {
    if (!this.upload) {
      await this.bucket.put(this.key, this.buffer.subarray(0, this.filled));
    } else {
      if (this.filled > 0) await this.flushPart();
      await this.upload.complete(this.parts);
    }
    this.release();
  }

  async abort(): Promise<void> {
    const upload = this.upload;
    this.release();
    await upload?.abort();
  }

  private release(): void {
    this.buffer = new Uint8Array(0);
    this.filled = 0;
  }
}
