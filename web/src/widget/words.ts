// The widget's words, in the languages the inbox speaks. The widget is a separate, small script on the shop's
// pages, so it carries only these (not the inbox's catalogues).
import { fill, firstSupported } from "../i18n/core";

const en = {
  launcher: "Chat with us",
  title: "Chat",
  close: "Close chat",
  greeting: "Hi! Send us a message and we'll answer here.",
  message: "Message",
  send: "Send",
  attach: "Attach a file",
  you: "You",
  shop: "Support",
  sending: "Sending…",
  uploading: "Uploading {name}…",
  notSent: "Not sent: {reason}",
  retry: "Retry",
  remove: "Remove",
  offline: "We can't reach the chat right now. Your messages will be sent when it's back.",
  unavailable: "The chat is not available on this page right now.",
  unreadOne: "1 new message",
  unread: "{count} new messages",
  attachment: "Attachment: {name}",
  emailOffer: "Add your email to keep all your conversations with us together",
  emailLabel: "Your email address",
  sendCode: "Send me a code",
  cancel: "Cancel",
  codeSent: "We sent a 6-digit code to {email}. Type it here to confirm the address.",
  codeLabel: "Code from the email",
  confirm: "Confirm",
  otherAddress: "Use another address",
  linked: "Your conversations are kept with {email}.",
  past: "Your conversations with us ({count})",
} as const;

export type WidgetWordKey = keyof typeof en;
type Words = Record<WidgetWordKey, string>;

const es: Words = {
  launcher: "Chatea con nosotros",
  title: "Chat",
  close: "Cerrar el chat",
  greeting: "¡Hola! Escríbenos un mensaje y te responderemos aquí.",
  message: "Mensaje",
  send: "Enviar",
  attach: "Adjuntar un archivo",
  you: "Tú",
  shop: "Atención al cliente",
  sending: "Enviando…",
  uploading: "Subiendo {name}…",
  notSent: "No enviado: {reason}",
  retry: "Reintentar",
  remove: "Quitar",
  offline: "Ahora no podemos conectar con el chat. Tus mensajes se enviarán cuando vuelva.",
  unavailable: "El chat no está disponible en esta página ahora.",
  unreadOne: "1 mensaje nuevo",
  unread: "{count} mensajes nuevos",
  attachment: "Archivo adjunto: {name}",
  emailOffer: "Añade tu email para tener juntas todas tus conversaciones con nosotros",
  emailLabel: "Tu dirección de email",
  sendCode: "Envíame un código",
  cancel: "Cancelar",
  codeSent: "Te enviamos un código de 6 cifras a {email}. Escríbelo aquí para confirmar la dirección.",
  codeLabel: "Código del email",
  confirm: "Confirmar",
  otherAddress: "Usar otra dirección",
  linked: "Tus conversaciones quedan guardadas con {email}.",
  past: "Tus conversaciones con nosotros ({count})",
};

const pt: Words = {
  launcher: "Fale conosco",
  title: "Chat",
  close: "Fechar o chat",
  greeting: "Olá! Envie uma mensagem e responderemos aqui.",
  message: "Mensagem",
  send: "Enviar",
  attach: "Anexar um arquivo",
  you: "Você",
  shop: "Atendimento",
  sending: "Enviando…",
  uploading: "Enviando {name}…",
  notSent: "Não enviada: {reason}",
  retry: "Tentar de novo",
  remove: "Remover",
  offline: "Não conseguimos acessar o chat agora. Suas mensagens serão enviadas quando ele voltar.",
  unavailable: "O chat não está disponível nesta página agora.",
  unreadOne: "1 nova mensagem",
  unread: "{count} novas mensagens",
  attachment: "Anexo: {name}",
  emailOffer: "Adicione seu e-mail para manter juntas todas as suas conversas conosco",
  emailLabel: "Seu endereço de e-mail",
  sendCode: "Enviar um código",
  cancel: "Cancelar",
  codeSent: "Enviamos um código de 6 dígitos para {email}. Digite-o aqui para confirmar o endereço.",
  codeLabel: "Código do e-mail",
  confirm: "Confirmar",
  otherAddress: "Usar outro endereço",
  linked: "Suas conversas ficam guardadas com {email}.",
  past: "Suas conversas conosco ({count})",
};

export const WIDGET_WORDS: Record<"en" | "es" | "pt", Words> = { en, es, pt };
export type WidgetLanguage = keyof typeof WIDGET_WORDS;
export type Say = (key: WidgetWordKey, values?: Record<string, string | number>) => string;

/** The page's chosen language (``data-lang``), else the browser's, else English. */
export function widgetLanguage(chosen: string | null, browser: readonly string[]): WidgetLanguage {
  return firstSupported([chosen, ...browser], Object.keys(WIDGET_WORDS) as WidgetLanguage[], "en");
}

export function sayer(language: WidgetLanguage): Say {
  const words = WIDGET_WORDS[language];
  return (key, values) => fill(words[key], values);
}
