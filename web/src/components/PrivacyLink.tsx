import { isAdmin, useApp } from "../context";

/** Admins only: the way from a customer to their export and erase on the Privacy page. */
export function PrivacyLink({ customerId }: { customerId: string }) {
  const { t, navigate, who } = useApp();
  if (!isAdmin(who)) return null;
  const path = `/settings/privacy/${encodeURIComponent(customerId)}`;
  return (
    <p class="small">
      <a
        href={path}
        onClick={(e) => {
          e.preventDefault();
          navigate(path);
        }}
      >
        {t("privacy.fromProfile")}
      </a>
    </p>
  );
}
