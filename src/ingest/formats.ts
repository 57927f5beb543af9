// The document formats and the file extensions that name them. Free of dependencies, so that the admin console's
// browser bundle offers exactly the formats and extensions the server accepts.

export const DOCUMENT_FORMATS = ['pdf', 'docx', 'html', 'markdown', 'text', 'spreadsheet', 'csv', 'slides', 'image'] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

export const formatByExtension: Record<string, DocumentFormat> = {
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.html': 'html',
  '.htm': 'html',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.xlsx': 'spreadsheet',
  '.csv': 'csv',
  '.pptx': 'slides',
  '.png': 'image',
  '.jpg': 'image',
  '.jpeg': 'image',
  '.tif': 'image',
  '.tiff': 'image',
};
