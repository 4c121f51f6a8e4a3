-- The general-corpus documents the mixture may take: staged documents the general corpus' QC run kept (a document
-- staged after that run, or removed by it, is left out).
select
    documents.doc_id,
    documents.general_source,
    documents.text,
    documents.language,
    documents.topic,
    documents.license,
    documents.chars
from {{ ref('stg_general__documents') }} as documents
inner join {{ ref('stg_qc__general_kept') }} as kept
    on kept.doc_id = documents.doc_id
