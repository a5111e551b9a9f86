# Custom Beam SDK worker image for Dataflow / Spark / Flink: the official Python 3.11 SDK
# image of the Beam version corpusmill pins, plus Tesseract for CPU OCR and corpusmill itself.
FROM apache/beam_python3.11_sdk:2.77.0

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim \
 && rm -rf /var/lib/apt/lists/*

COPY . /opt/corpusmill
RUN pip install --no-cache-dir /opt/corpusmill

# The SDK harness entrypoint comes from the base image.
