package siameseim.datasets.decode;

import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.imgcodecs.Imgcodecs;
import siameseim.datasets.image.RgbImage;

/**
 * OpenCV's imdecode (libjpeg-turbo, libpng) through the org.openpnp build, whose jar carries the
 * native library for each platform and loads it without network access; JPEGs go to the host's
 * libturbojpeg instead when it is installed ({@link TurboJpeg}: the same library with its SIMD
 * code, the same pixels). Formats this OpenCV
 * build cannot read (GIF) and files it refuses go to ImageIO before being called corrupt.
 */
public final class OpenCvDecoder implements ImageDecoder {
    private static volatile boolean loaded;
    private final ImageIoDecoder fallback = new ImageIoDecoder();

    public OpenCvDecoder() {
        load();
    }

    static synchronized void load() {
        if (!loaded) {
            nu.pattern.OpenCV.loadLocally();
            loaded = true;
        }
    }

    @Override
    public String name() {
        return "opencv";
    }

    @Override
    public Decoded decode(byte[] bytes, long maxPixels) throws BadImageException {
        ImageHeader h = ImageDecoder.check(bytes, maxPixels);
        if (h.format().equals("gif")) {
            return fallback.decode(bytes, maxPixels);
        }
        if (h.format().equals("jpeg")) {
            RgbImage fast = TurboJpeg.decode(bytes, h); // the same libjpeg-turbo, with its SIMD code
            if (fast != null) {
                return new Decoded(fast, h.format(), "");
            }
        }
        MatOfByte buf = new MatOfByte(bytes);
        Mat bgr = Imgcodecs.imdecode(buf, Imgcodecs.IMREAD_COLOR);
        buf.release();
        try {
            if (bgr.empty()) {
                return fallback.decode(bytes, maxPixels);
            }
            if ((long) bgr.cols() * bgr.rows() > maxPixels) {
                throw new BadImageException(BadImageException.Reason.TOO_LARGE, bgr.cols() + " x " + bgr.rows()
                        + " pixels exceeds the limit of " + maxPixels);
            }
            return new Decoded(fromBgr(bgr), h.format(), "");
        } finally {
            bgr.release();
        }
    }

    /**
     * The planar float image of an 8-bit BGR Mat, done by OpenCV's SIMD loops: each channel into its
     * plane of one 3h x w byte Mat (R, G, B), converted to floats (exact: integers 0..255), copied
     * out in one call. The Java loop over interleaved bytes it replaced took a quarter of the
     * decode of a 500 x 375 JPEG.
     */
    static RgbImage fromBgr(Mat bgr) {
        int w = bgr.cols();
        int h = bgr.rows();
        Mat planes = new Mat(3 * h, w, CvType.CV_8UC1);
        Mat floats = new Mat();
        try {
            for (int c = 0; c < 3; c++) {
                Mat plane = planes.rowRange(c * h, (c + 1) * h);
                Core.extractChannel(bgr, plane, 2 - c); // BGR: R is channel 2
                plane.release();
            }
            planes.convertTo(floats, CvType.CV_32F);
            RgbImage img = new RgbImage(w, h);
            floats.get(0, 0, img.data());
            return img;
        } finally {
            planes.release();
            floats.release();
        }
    }

    @Override
    public byte[] encodeJpeg(RgbImage image, int quality) {
        int w = image.width();
        int h = image.height();
        int n = w * h;
        byte[] px = new byte[n * 3];
        float[] d = image.data();
        for (int i = 0; i < n; i++) {
            px[3 * i] = (byte) (int) RgbImage.clampRound(d[2 * n + i]);
            px[3 * i + 1] = (byte) (int) RgbImage.clampRound(d[n + i]);
            px[3 * i + 2] = (byte) (int) RgbImage.clampRound(d[i]);
        }
        Mat m = new Mat(h, w, org.opencv.core.CvType.CV_8UC3);
        m.put(0, 0, px);
        MatOfByte out = new MatOfByte();
        Imgcodecs.imencode(".jpg", m, out, new MatOfInt(Imgcodecs.IMWRITE_JPEG_QUALITY, quality));
        byte[] bytes = out.toArray();
        m.release();
        out.release();
        return bytes;
    }
}
