# One image for web (gunicorn), worker and beat (celery); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The code runs from /app (manage.py, templates/ and static/ sit beside the packages).
    PYTHONPATH=/app

WORKDIR /app

# Dependencies in their own layer: with only pyproject.toml copied, `pip install .` installs
# the dependencies and no package, so editing the code does not reinstall them.
# psycopg[binary] brings its own libpq: no compiler nor system library is needed.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# Static files are collected into the image. Debug off selects whitenoise's manifest storage
# (hashed, compressed names); a throwaway key stands in for the real one, never baked in.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-time-only-not-a-secret \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 app \
    && mkdir -p /app/media \
    && chown app:app /app/media
USER app

EXPOSE 8000
CMD ["gunicorn", "observatory.wsgi", "-w", "2", "-b", "0.0.0.0:8000"]
