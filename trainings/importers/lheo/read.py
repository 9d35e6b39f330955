"""Reading an LHEO file with defusedxml: the encoding, the namespace and every <formation> turned
into an OfferRecord, each with its XML line."""

import codecs
from pathlib import Path
from xml.etree.ElementTree import ParseError, TreeBuilder

from defusedxml.common import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from skills.importers.base import ImportFailed, RowError

from .records import (
    CPF_EXTRA,
    DECLARED_ENCODING,
    NAMESPACES,
    NS_22,
    NS_23,
    AddressRecord,
    OfferRecord,
    ProviderRecord,
    SessionRecord,
)


class _LineParser(DefusedXMLParser):
    """defusedxml's parser (entities and external references forbidden) that also notes the line
    of each element, and refuses a DOCTYPE only when it points outside the file."""

    def __init__(self):
        super().__init__(target=TreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
        self.lines = {}

    def defused_start_doctype_decl(self, name, sysid, pubid, has_internal_subset):
        if sysid or pubid:
            raise DTDForbidden(name, sysid, pubid)

    def _start(self, tag, attr_list):
        element = super()._start(tag, attr_list)
        self.lines[element] = self.parser.CurrentLineNumber
        return element


def read_lheo(source) -> list[OfferRecord]:
    """The offers of the file as records of strings. Raises ImportFailed when the file is not a
    safe, whole, well-encoded LHEO 2.3 or 2.2 document."""
    name = _source_name(source)
    data = Path(source).read_bytes() if isinstance(source, str | Path) else source.read()

    def refuse(line, message):
        raise ImportFailed([RowError(line, message, name)], name)

    if not data.strip():
        refuse(1, "fichier vide")
    _check_encoding(data, refuse)

    parser = _LineParser()
    try:
        parser.feed(data)
        root = parser.close()
    except EntitiesForbidden as exc:
        refuse(
            parser.parser.CurrentLineNumber,
            f"déclaration d'entité XML « {exc.name} » refusée : les entités permettent des attaques "
            "(expansion exponentielle « billion laughs », lecture de fichiers du serveur)",
        )
    except DTDForbidden as exc:
        refuse(
            parser.parser.CurrentLineNumber,
            f"DTD externe refusée (DOCTYPE {exc.name} SYSTEM « {exc.sysid or exc.pubid} ») : "
            "un fichier LHEO ne doit rien faire charger hors de lui-même",
        )
    except ExternalReferenceForbidden as exc:
        refuse(
            parser.parser.CurrentLineNumber,
            f"référence à une ressource externe « {exc.sysid} » refusée",
        )
    except ParseError as exc:
        line, column = exc.position
        truncated = exc.code in (3, 5, 6) and line >= data.rstrip().count(b"\n") + 1  # no element, unclosed
        if truncated:
            refuse(line, f"fichier tronqué : le document XML s'arrête avant sa fin ({exc.msg})")
        refuse(line, f"XML mal formé : {exc.msg}")

    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "lheo":
        refuse(1, f"élément racine « {local} » inattendu : un fichier LHEO commence par <lheo>")
    if namespace not in NAMESPACES:
        shown = f"« {namespace} »" if namespace else "absent"
        refuse(
            parser.lines.get(root, 1),
            f"espace de noms {shown} non reconnu (attendu : {NS_23} pour LHEO 2.3 ou {NS_22} pour LHEO 2.2)",
        )
    return _Reader(namespace, parser.lines, name).offers(root)


def _source_name(source) -> str:
    if isinstance(source, str | Path):
        return Path(source).name
    return Path(getattr(source, "name", "") or "flux LHEO").name


def _check_encoding(data: bytes, refuse) -> None:
    """The bytes must decode in the encoding the XML declaration names (UTF-8 by default)."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        declared = DECLARED_ENCODING.match(data)
        encoding, body = (declared.group(1).decode("ascii") if declared else "utf-8"), data
    try:
        codecs.lookup(encoding)
    except LookupError:
        refuse(1, f"encodage « {encoding} » inconnu dans la déclaration XML")
    try:
        body.decode(encoding)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        refuse(
            line,
            f"octet invalide pour l'encodage « {encoding} » déclaré par le fichier : il n'est pas enregistré "
            "dans cet encodage (réenregistrez-le en UTF-8 ou corrigez la déclaration <?xml … encoding=…?>)",
        )


class _Reader:
    """Walks a parsed LHEO tree; paths are written without namespace (« action/session »)."""

    def __init__(self, namespace: str, lines: dict, source: str):
        self.ns = namespace
        self.lines = lines
        self.source = source

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{part}" for part in path.split("/"))

    def all(self, element, path):
        return element.findall(self._path(path))

    def first(self, element, path):
        return element.find(self._path(path)) if element is not None else None

    def text(self, element, path) -> str:
        found = self.first(element, path)
        return "".join(found.itertext()).strip() if found is not None else ""

    def texts(self, element, path) -> list[str]:
        return [value for value in ("".join(e.itertext()).strip() for e in self.all(element, path)) if value]

    def line(self, element, default=0) -> int:
        return self.lines.get(element, default) if element is not None else default

    def offers(self, root) -> list[OfferRecord]:
        return [self.offer(formation) for formation in self.all(root, "offres/formation")]

    def offer(self, formation) -> OfferRecord:
        record = OfferRecord(source=self.source, line=self.line(formation), number=formation.get("numero", "").strip())
        record.title = self.text(formation, "intitule-formation")
        record.objectives = self.text(formation, "objectif-formation")
        record.content = self.text(formation, "contenu-formation")
        record.formacodes = self.texts(formation, "domaine-formation/code-FORMACODE")
        record.rome_codes = self.texts(formation, "domaine-formation/code-ROME")
        for certification in self.all(formation, "certification"):
            record.certification_codes += [("RNCP", code) for code in self.texts(certification, "code-RNCP")]
            record.certification_codes += [("RS", code) for code in self.texts(certification, "code-RS")]
        record.cpf = bool(
            self.texts(formation, "certification/code-CPF")
            or self.texts(formation, "code-type-formation/code-CPF")
            or any(
                extra.get("info") == CPF_EXTRA and (extra.text or "").strip() in ("1", "oui", "true")
                for extra in formation.iter(f"{{{self.ns}}}extra")
            )
        )
        record.url = self.text(formation, "url-formation/urlweb")

        actions = self.all(formation, "action")
        if actions:
            first = actions[0]
            record.action_line = self.line(first)
            record.modality = self.text(first, "modalites-enseignement")
            record.hours = self.text(first, "nombre-heures-total")
            record.hours_parts = [
                value
                for value in (self.text(first, "nombre-heures-centre"), self.text(first, "nombre-heures-entreprise"))
                if value
            ]
            record.price = self.text(first, "prix-total-TTC")
        for action in actions:
            place = self.address(self.first(action, "lieu-de-formation/coordonnees/adresse"))
            for session in self.all(action, "session"):
                record.sessions.append(
                    SessionRecord(
                        line=self.line(session),
                        number=session.get("numero", "").strip(),
                        start=self.text(session, "periode/debut"),
                        end=self.text(session, "periode/fin"),
                        places=self.text(session, "recrutement/nb-places"),
                        place=place,
                    )
                )
        responsible = self.first(formation, "organisme-formation-responsable")
        if responsible is not None:
            record.provider = self.provider(responsible)
        return record

    def provider(self, element) -> ProviderRecord:
        siret = self.first(element, "SIRET-organisme-formation/SIRET")
        record = ProviderRecord(
            line=self.line(element),
            siret=self.text(element, "SIRET-organisme-formation/SIRET"),
            siret_line=self.line(siret, self.line(element)),
            legal_name=self.text(element, "raison-sociale"),
            usual_name=self.text(element, "nom-organisme"),
            nda=self.text(element, "numero-activite"),
        )
        main = self.first(element, "coordonnees-organisme/coordonnees")
        contact = self.first(element, "contact-organisme/coordonnees")
        record.address = self.address(self.first(main, "adresse"))
        if record.address is None and main is not None and self.texts(main, "ligne"):
            record.address = AddressRecord(lines=self.texts(main, "ligne"))
        for coordinates in (contact, main):
            if coordinates is None:
                continue
            record.email = record.email or self.text(coordinates, "courriel")
            record.phone = (
                record.phone or self.text(coordinates, "telfixe/numtel") or self.text(coordinates, "portable/numtel")
            )
        for coordinates in (main, contact):
            if coordinates is not None:
                record.website = record.website or self.text(coordinates, "web/urlweb")
        if contact is not None:
            record.contact_name = " ".join(
                value for value in (self.text(contact, "prenom"), self.text(contact, "nom")) if value
            )
        return record

    def address(self, element) -> AddressRecord | None:
        if element is None:
            return None
        return AddressRecord(
            lines=self.texts(element, "ligne"),
            postcode=self.text(element, "codepostal"),
            city=self.text(element, "ville"),
            insee=self.text(element, "code-INSEE-commune"),
        )
