# Custom Beam SDK worker image for Dataflow / Spark / Flink: the official Python 3.11 SDK
# image of the Beam version corpusmill pins, plus Tesseract for CPU OCR (models for every
# script of Qwen3's languages: packaging/tesseract-packages.txt, the list `make` installs too)
# bubblewrap for the code sandbox of `synth`, and corpusmill itself with the Cloud Storage and
# S3 filesystems.
FROM apache/beam_python3.11_sdk:2.77.0

COPY packaging/tesseract-packages.txt /tmp/tesseract-packages.txt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(grep -v '^#' /tmp/tesseract-packages.txt) bubblewrap libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/* /tmp/tesseract-packages.txt

COPY . /opt/corpusmill
RUN pip install --no-cache-dir '/opt/corpusmill[gcs,s3,search,rapidocr]'

# The SDK harness entrypoint comes from the base image.
