package siameseim.datasets.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.imgcodecs.Imgcodecs;
import siameseim.datasets.bench.DataBenchmark;
import siameseim.datasets.image.RgbImage;
import siameseim.datasets.testing.TestImages;

/**
 * The host's libturbojpeg gives OpenCV's pixels, bit for bit, on the JPEGs it takes (colour and
 * grey, 4:2:0, 4:2:2 and 4:4:4, baseline and progressive, odd sizes), and leaves to OpenCV the ones
 * OpenCV decodes its own way (Exif orientation, CMYK). Skipped where libturbojpeg is not installed
 * (Debian: libturbojpeg0), where OpenCV decodes everything.
 */
class TurboJpegTest {
    private static RgbImage openCv(byte[] jpeg) {
        MatOfByte buf = new MatOfByte(jpeg);
        Mat bgr = Imgcodecs.imdecode(buf, Imgcodecs.IMREAD_COLOR);
        buf.release();
        try {
            return OpenCvDecoder.fromBgr(bgr);
        } finally {
            bgr.release();
        }
    }

    /** An OpenCV-encoded JPEG of random smooth colours with the given sampling and progression. */
    private static byte[] encode(int w, int h, int sampling, boolean progressive, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] px = new byte[w * h * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (128 + 100 * Math.sin(i * 0.0007 * (1 + seed)) + rng.nextInt(20));
        }
        Mat m = new Mat(h, w, CvType.CV_8UC3);
        m.put(0, 0, px);
        MatOfByte out = new MatOfByte();
        Imgcodecs.imencode(".jpg", m, out, new MatOfInt(Imgcodecs.IMWRITE_JPEG_QUALITY, 87,
                Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR, sampling, Imgcodecs.IMWRITE_JPEG_PROGRESSIVE,
                progressive ? 1 : 0));
        byte[] b = out.toArray();
        m.release();
        out.release();
        return b;
    }

    @Test
    void samePixelsAsOpenCv() throws Exception {
        OpenCvDecoder.load();
        assumeTrue(TurboJpeg.available(), "libturbojpeg is not installed");
        List<byte[]> jpegs = new ArrayList<>();
        jpegs.add(TestImages.fixture("good.jpg"));
        jpegs.add(TestImages.fixture("gray.jpg"));
        ImageDecoder opencv = new OpenCvDecoder();
        jpegs.addAll(DataBenchmark.jpegs(opencv, 500, 375, false).subList(0, 4));
        jpegs.addAll(DataBenchmark.jpegs(opencv, 48, 48, true).subList(0, 2));
        int[] samplings = {Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_420, Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_422,
            Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_444};
        for (int s = 0; s < samplings.length; s++) {
            for (boolean progressive : new boolean[] {false, true}) {
                jpegs.add(encode(37 + 16 * s, 61, samplings[s], progressive, s));
            }
        }
        for (int i = 0; i < jpegs.size(); i++) {
            byte[] j = jpegs.get(i);
            RgbImage fast = TurboJpeg.decode(j, ImageHeader.sniff(j));
            assertNotNull(fast, "JPEG " + i + " was left to OpenCV");
            RgbImage want = openCv(j);
            assertEquals(want.width(), fast.width(), "JPEG " + i);
            assertEquals(want.height(), fast.height(), "JPEG " + i);
            assertArrayEquals(want.data(), fast.data(), "JPEG " + i);
            assertArrayEquals(want.data(), opencv.decode(j, Long.MAX_VALUE).image().data(), "JPEG " + i);
        }
    }

    @Test
    void exifAndCmykAreLeftToOpenCv() throws Exception {
        OpenCvDecoder.load();
        assumeTrue(TurboJpeg.available(), "libturbojpeg is not installed");
        byte[] plain = encode(40, 30, Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_420, false, 9);
        // an APP1 Exif segment (a TIFF header with no entries) after SOI
        byte[] tiff = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0};
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(plain, 0, 2);
        b.write(0xFF);
        b.write(0xE1);
        b.write(0);
        b.write(tiff.length + 2);
        b.write(tiff);
        b.write(plain, 2, plain.length - 2);
        byte[] exif = b.toByteArray();
        assertTrue(ImageHeader.sniff(exif).exif());
        assertNull(TurboJpeg.decode(exif, ImageHeader.sniff(exif)));
        assertArrayEquals(openCv(exif).data(), new OpenCvDecoder().decode(exif, Long.MAX_VALUE).image().data());
        byte[] cmyk = TestImages.fixture("cmyk.jpg");
        assertNull(TurboJpeg.decode(cmyk, ImageHeader.sniff(cmyk)));
    }
}
